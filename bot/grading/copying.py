"""Text copied from what the product shows or ships: key points, reference answers, kb notes.

A candidate sees the key points in the feedback after an attempt and may have read the kb, so
pasting either back proves nothing. Every source is cut into overlapping runs of SHINGLE content
stems (stop words dropped, words stemmed, so reordered function words do not hide a copy). The
answer's stems that fall inside shared runs are marked, a single changed word between two marked
stretches is bridged (so swapping one word in three does not hide a copy either), and stretches
too short to be more than a common phrase are unmarked. A unit of the answer is copied when most
of its content stems stay marked; the grade names the source.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from bot.content import ContentBank
from bot.text import content_stems

SHINGLE = 3
COPIED_SHARE = 0.6  # of a unit's content stems inside shared stretches
MIN_RUN = 7  # content stems in a row shared with a source: shorter is a common phrase
OWN_RUN = 5  # ... with the question's own key points and reference, which the candidate has seen
MAX_LABELS = 3  # sources remembered per shingle


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
    """Runs of content stems from every source, each with the sources that hold it."""

    def __init__(self, sources: Iterable[tuple[str, str]]) -> None:
        self._where: dict[int, tuple[str, ...]] = {}
        self._length: dict[str, int] = {}
        for label, text in sources:
            stems = content_stems(text)
            self._length[label] = min(self._length.get(label, len(stems)), len(stems))
            for shingle in _shingles(stems):
                held = self._where.get(shingle, ())
                if label not in held and len(held) < MAX_LABELS:
                    self._where[shingle] = (*held, label)

    def __len__(self) -> int:
        return len(self._where)

    @classmethod
    def from_bank(cls, bank: ContentBank) -> CopyIndex:
        """Key points first (so a pasted key point is named as one), then every kb document."""
        points = (
            (key_points_label(q.id), kp.text)
            for q in bank.questions.values()
            for kp in q.key_points
        )
        docs = ((file.path, file.body) for file in bank.docs.values())
        return cls([*points, *docs])

    def find_in(self, texts: list[str], own: Collection[str] = ()) -> list[Copy | None]:
        """Per unit, the copy it is part of. Stretches are found over the whole answer, so a
        copied passage cut into short units or lines is still one copy. `own` names the
        sources of the question being answered: shorter overlaps with them count."""
        stems: list[str] = []
        owner: list[int] = []
        for k, text in enumerate(texts):
            unit_stems = content_stems(text)
            stems += unit_stems
            owner += [k] * len(unit_stems)
        covered = [False] * len(stems)
        source_at: list[str | None] = [None] * len(stems)
        need_at = [MIN_RUN] * len(stems)
        for i, shingle in enumerate(_shingles(stems)):
            labels = self._where.get(shingle, ())
            if not labels:
                continue
            label = next((x for x in labels if x in own), labels[0])
            need = self._need(label, own)
            for j in range(i, i + SHINGLE):
                covered[j], source_at[j] = True, source_at[j] or label
                need_at[j] = min(need_at[j], need)
        _bridge_single_gaps(covered, need_at)
        _drop_short_runs(covered, need_at)
        return [_unit_copy(k, owner, covered, source_at) for k in range(len(texts))]

    def _need(self, label: str, own: Collection[str]) -> int:
        """How long a shared stretch must be to count: shorter for the question's own sources,
        and never longer than the source itself (a key point of five terms is a copy whole)."""
        base = OWN_RUN if label in own else MIN_RUN
        return min(base, max(self._length.get(label, base), SHINGLE + 1))


def _bridge_single_gaps(covered: list[bool], need_at: list[int]) -> None:
    for i in range(1, len(covered) - 1):
        if not covered[i] and covered[i - 1] and covered[i + 1]:
            covered[i] = True
            need_at[i] = max(need_at[i - 1], need_at[i + 1])


def _drop_short_runs(covered: list[bool], need_at: list[int]) -> None:
    start = None
    for i, flag in enumerate([*covered, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start < min(need_at[start:i]):
                covered[start:i] = [False] * (i - start)
            start = None


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
