"""Human-scored answer sets: the shared CSV layout and the project's own labelled answers."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from bot.content import ContentBank, KeyPoint
from bot.content.bank import LABELLED_DIR
from bot.errors import BotError

REQUIRED = ("question", "reference_answer", "answer", "score", "max_score")


@dataclass(frozen=True)
class ScoredAnswer:
    """One human-scored answer; `score` is on the 0-100 scale."""

    dataset: str
    split: str
    question_id: str
    question: str
    reference: str
    answer: str
    score: float
    binary: bool


def read_csv(path: Path, *, split: str | None = None) -> list[ScoredAnswer]:
    """Rows of a CSV in the shared layout (see shared/datasets/README.md)."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as error:
        raise BotError(f"cannot read dataset {path}: {error.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise BotError(f"{path}: missing columns {', '.join(missing)}")
        rows = [_row(path, n, r) for n, r in enumerate(reader, start=2)]
    if split is not None:
        splits = sorted({r.split for r in rows})
        rows = [r for r in rows if r.split == split]
        if not rows:
            raise BotError(f"{path}: no rows in split '{split}' (splits: {', '.join(splits)})")
    return rows


def _row(path: Path, line: int, row: dict[str, str]) -> ScoredAnswer:
    try:
        score, top = float(row["score"]), float(row["max_score"])
    except ValueError:
        raise BotError(f"{path}:{line}: score and max_score must be numbers") from None
    if top <= 0 or not 0 <= score <= top:
        raise BotError(f"{path}:{line}: score {score} is outside 0..{top}")
    return ScoredAnswer(
        dataset=row.get("dataset") or path.stem,
        split=row.get("split") or "all",
        question_id=row.get("question_id") or row["question"][:40],
        question=row["question"],
        reference=row["reference_answer"],
        answer=row["answer"],
        score=100 * score / top,
        binary=False,
    )


def mark_binary(rows: list[ScoredAnswer]) -> list[ScoredAnswer]:
    """When every score is 0 or 100, the set is binary (and ROC AUC is reported)."""
    binary = bool(rows) and all(r.score in (0.0, 100.0) for r in rows)
    if not binary:
        return rows
    return [ScoredAnswer(**{**r.__dict__, "binary": True}) for r in rows]


def labelled_rows(bank: ContentBank) -> list[ScoredAnswer]:
    """The project's own labelled answers (LABELLED_DIR in the content root)."""
    if not bank.labelled:
        raise BotError(f"no labelled answers: {bank.root / LABELLED_DIR} is missing or empty")
    rows = []
    for qid, item in sorted(bank.labelled.items()):
        question = bank.question(qid)
        for answer in item.answers:
            rows.append(
                ScoredAnswer(
                    "labelled",
                    question.kind,
                    qid,
                    question.prompt,
                    "",
                    answer.text,
                    float(answer.score),
                    False,
                )
            )
    return rows


def key_points_from_reference(reference: str, *, limit: int = 8) -> list[KeyPoint]:
    """Derive key points from a reference answer: its sentences or list items, one point each."""
    pieces = [p.strip(" -*•\t") for p in re.split(r"\n+|(?<=[.!?;])\s+", reference)]
    pieces = [p for p in pieces if len(p.split()) >= 2]
    if not pieces:
        pieces = [reference.strip() or "(no reference)"]
    if len(pieces) > limit:  # merge neighbours so that long references keep every fact
        size = -(-len(pieces) // limit)
        pieces = [" ".join(pieces[i : i + size]) for i in range(0, len(pieces), size)]
    return [KeyPoint(id=f"ref-{n}", text=p, weight=1.0) for n, p in enumerate(pieces, start=1)]
