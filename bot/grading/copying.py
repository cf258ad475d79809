"""Text copied from what the product shows or ships: key points, reference answers, kb notes.

A candidate sees the key points in the feedback after an attempt and may have read the kb, so
pasting either back proves nothing. Every source is cut into overlapping runs of SHINGLE content
stems (stop words dropped, words stemmed, so small edits and reordered function words do not hide
a copy). A unit of the answer is copied when most of its content stems sit inside runs that
also occur in one source; the grade names that source.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.content import ContentBank
from bot.text import content_stems

SHINGLE = 4
COPIED_SHARE = 0.6  # of a unit's content stems inside shared runs
MIN_RUN = 7  # content stems in a row shared with one source: shorter is a common phrase


@dataclass(frozen=True)
class Copy:
    share: float
    source: str


def _shingles(stems: list[str]) -> list[int]:
    return [
        zlib.crc32(" ".join(stems[i : i + SHINGLE]).encode())
        for i in range(len(stems) - SHINGLE + 1)
    ]


class CopyIndex:
    """Runs of content stems from every source, each with the first source that holds it."""

    def __init__(self, sources: Iterable[tuple[str, str]]) -> None:
        self._where: dict[int, tuple[str, int]] = {}
        for label, text in sources:
            stems = content_stems(text)
            # A whole short source (a key point of five terms) is a copy on its own.
            need = min(MIN_RUN, max(len(stems), SHINGLE + 1))
            for shingle in _shingles(stems):
                self._where.setdefault(shingle, (label, need))

    def __len__(self) -> int:
        return len(self._where)

    @classmethod
    def from_bank(cls, bank: ContentBank) -> CopyIndex:
        """Key points first (so a pasted key point is named as one), then every kb document."""
        points = (
            (f"the key points of {q.id}", kp.text)
            for q in bank.questions.values()
            for kp in q.key_points
        )
        docs = ((file.path, file.body) for file in bank.docs.values())
        return cls([*points, *docs])

    def find_in(self, texts: list[str]) -> list[Copy | None]:
        """Per unit, the copy it is part of. Runs are found over the whole answer, so a copied
        passage cut into short units or lines is still one copy; a run must hold at least
        MIN_RUN content stems (a long overlap, not a shared phrase)."""
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
            found = self._where.get(shingle)
            if found is not None:
                for j in range(i, i + SHINGLE):
                    covered[j], source_at[j] = True, source_at[j] or found[0]
                    need_at[j] = min(need_at[j], found[1])
        _drop_short_runs(covered, need_at)
        return [_unit_copy(k, owner, covered, source_at) for k in range(len(texts))]


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
    return Copy(round(share, 3), str(sources.most_common(1)[0][0]))
