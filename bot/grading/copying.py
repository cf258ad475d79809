"""Text copied from what the product shows or ships: key points, reference answers, kb notes.

A candidate sees the key points in the feedback after an attempt and may have read the kb, so
pasting either back proves nothing. Every source is cut into overlapping runs of SHINGLE content
stems (stop words dropped, words stemmed, so reordered function words do not hide a copy). For
each source, the answer's stems inside runs it shares are marked, a single changed word between
two marked stretches is bridged (so swapping one word in three does not hide a copy), and
stretches too short to be more than a common phrase are dropped. A unit of the answer is copied
when most of its content stems sit in such stretches; the grade names the source.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache
from math import ceil

from bot.content import ContentBank
from bot.text import content_stems

SHINGLE = 3
COPIED_SHARE = 0.6  # of a unit's content stems inside shared stretches
MIN_RUN = 7  # content stems in a row shared with a document: shorter is a common phrase
KEY_POINT_SHARE = 0.8  # of a key point's stems, in a row, to be a copy of it
# Sources remembered per shingle: with 300 questions a common run ("the kv cache grows") is in
# many key points, and a cap of 3 left later questions' key points unprotected.
MAX_LABELS = 16
WHOLE_UNIT_MIN = 4  # content stems a unit needs before it can be a copy on its own
RESTATE_MIN = 6  # a key point of 6+ stems, KEY_POINT_SHARE of them in order (words slipped in)


Source = tuple[str, int, bool]  # label, stems a shared stretch needs, a key point (whole)


@dataclass(frozen=True)
class Copy:
    share: float
    source: str


def key_points_label(question_id: str) -> str:
    return f"the key points of {question_id}"


def _shingles(stems: list[str]) -> list[int]:
    return [
        zlib.crc32(" ".join(stems[i : i + SHINGLE]).encode())
        for i in range(len(stems) - SHINGLE + 1)
    ]


class CopyIndex:
    """Runs of content stems from every source, each with the sources that hold it and how long
    a stretch shared with that source must be to count as a copy."""

    def __init__(self, sources: Iterable[tuple[str, str, bool]]) -> None:
        """`sources`: (label, text, whole). A whole source (a key point) is copied only when
        most of it is (KEY_POINT_SHARE of its stems): a candidate who knows the fact says part
        of it in the same words; pasting it takes nearly all of it."""
        self._where: dict[int, tuple[Source, ...]] = {}
        for label, text, whole in sources:
            stems = content_stems(text)
            need = ceil(KEY_POINT_SHARE * len(stems)) if whole else MIN_RUN
            need = max(min(need, len(stems)), SHINGLE + 1)
            for shingle in _shingles(stems):
                held = self._where.get(shingle, ())
                if (label, need, whole) not in held and len(held) < MAX_LABELS:
                    self._where[shingle] = (*held, (label, need, whole))

    def __len__(self) -> int:
        return len(self._where)

    @classmethod
    def from_bank(cls, bank: ContentBank) -> CopyIndex:
        """Key points first (so a pasted key point is named as one), then every kb document."""
        points = (
            (key_points_label(q.id), kp.text, True)
            for q in bank.questions.values()
            for kp in q.key_points
        )
        docs = ((file.path, file.body, False) for file in bank.docs.values())
        return cls([*points, *docs])

    def find_in(self, texts: list[str], own: Collection[str] = ()) -> list[Copy | None]:
        """Per unit, the copy it is part of. Stretches are found over the whole answer, so a
        copied passage cut into short units or lines is still one copy. `own` names the
        sources of the question being answered: they are named first, and a short unit taken
        whole from one of them is a copy too."""
        stems: list[str] = []
        owner: list[int] = []
        for k, text in enumerate(texts):
            unit_stems = content_stems(text)
            stems += unit_stems
            owner += [k] * len(unit_stems)
        marks: dict[Source, set[int]] = {}
        for i, shingle in enumerate(_shingles(stems)):
            for source in self._where.get(shingle, ()):
                marks.setdefault(source, set()).update(range(i, i + SHINGLE))
        covered = [False] * len(stems)
        source_at: list[str | None] = [None] * len(stems)
        # own sources first, so a stretch shared with the question's own reference is named so
        for label, need, whole in sorted(marks, key=lambda x: x[0] not in own):
            for start, end in _stretches(marks[label, need, whole], need):
                for j in range(start, end):
                    covered[j], source_at[j] = True, source_at[j] or label
        by_label: dict[str, set[int]] = {}  # documents only: a key point needs most of it
        for (label, _, whole), positions in marks.items():
            if not whole:
                by_label.setdefault(label, set()).update(positions)
        _whole_units(owner, by_label, own, covered, source_at, WHOLE_UNIT_MIN)
        return [_unit_copy(k, owner, covered, source_at) for k in range(len(texts))]


def _whole_units(
    owner: list[int],
    marks: dict[str, set[int]],
    own: Collection[str],
    covered: list[bool],
    source_at: list[str | None],
    least: int,
) -> None:
    """A unit of at least `least` stems whose every content stem, in order, comes from the
    question's own reference answer is a copy even when shorter than a stretch (a reordered
    reference)."""
    positions: dict[int, list[int]] = {}
    for i, k in enumerate(owner):
        positions.setdefault(k, []).append(i)
    for mine in positions.values():
        if len(mine) < least:
            continue
        label = next((x for x in own if x in marks and marks[x].issuperset(mine)), None)
        for i in mine if label else ():
            covered[i], source_at[i] = True, source_at[i] or label


def _stretches(marked: set[int], need: int) -> list[tuple[int, int]]:
    """Stretches of marked positions shared with one source, a single unmarked position
    between two marked ones bridged, kept when at least `need` long."""
    found: list[tuple[int, int]] = []
    start = end = None
    for i in sorted(marked):
        if end is not None and i <= end + 1:  # contiguous, or one position skipped
            end = i
            continue
        if start is not None and end is not None and end + 1 - start >= need:
            found.append((start, end + 1))
        start = end = i
    if start is not None and end is not None and end + 1 - start >= need:
        found.append((start, end + 1))
    return found


def _unit_copy(
    k: int, owner: list[int], covered: list[bool], source_at: list[str | None]
) -> Copy | None:
    mine = [i for i, o in enumerate(owner) if o == k]
    if not mine:
        return None
    share = sum(covered[i] for i in mine) / len(mine)
    if share < COPIED_SHARE:
        return None
    sources = Counter(source_at[i] for i in mine if covered[i] and source_at[i])
    if not sources:
        return None
    return Copy(round(share, 3), str(sources.most_common(1)[0][0]))


def restates(text: str, point: str) -> bool:
    """Whether `text` is `point` said again with words slipped in or swapped: most of the key
    point's content stems appear in it in order, and they make up most of `text`."""
    said, wanted = content_stems(text), _stems(point)
    if len(wanted) < RESTATE_MIN or not said:
        return False
    if len(set(wanted) & set(said)) < KEY_POINT_SHARE * len(set(wanted)):
        return False  # too few of its words at all: no need to look at their order
    common = _common_subsequence(said, list(wanted))
    return common >= KEY_POINT_SHARE * len(wanted) and common >= COPIED_SHARE * len(said)


@lru_cache(maxsize=8192)
def _stems(text: str) -> tuple[str, ...]:
    return tuple(content_stems(text))


def _common_subsequence(a: list[str], b: list[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        previous = 0
        for j, y in enumerate(b, start=1):
            previous, row[j] = row[j], previous + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]
