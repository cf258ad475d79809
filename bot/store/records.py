"""What the store hands back: attempts, sessions and per-competency summaries, built from rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.grading.grade import Grade
from bot.store.schema import SAVED, attempts_table

TREND_WINDOW = 5
RETRY_AFTER_FEEDBACK = "retry after feedback"  # how history shows an attempt that saw key points


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt as read back, with the mode of its session and its parsed grade.

    `seen_key_points` marks a retry: an earlier attempt of the same question had been graded,
    so its feedback (listing the key points) was shown before this answer was given.
    """

    id: str
    session_id: str
    user_id: str
    mode: str
    question_id: str
    kind: str
    competency: str
    difficulty: int
    round: str | None
    answer: str
    created_at: datetime
    submitted_at: datetime | None
    graded_at: datetime | None
    hints_used: int
    duration_s: float | None
    score: float | None
    grade: Grade | None
    grader: str | None
    grader_model: str | None
    grader_version: str | None
    rubric_id: str | None
    rubric_version: int | None
    seen_key_points: bool = False
    status: str = SAVED

    def to_dict(self) -> dict[str, Any]:
        out = {k: _jsonable(v) for k, v in vars(self).items() if k != "grade"}
        out["grade"] = None if self.grade is None else self.grade.model_dump(mode="json")
        return out


@dataclass(frozen=True)
class ScorePoint:
    """An attempt without its text or grade: what the history's summary, chart and pages show."""

    id: str
    question_id: str
    competency: str
    difficulty: int
    score: float | None
    created_at: datetime
    graded_at: datetime | None
    seen_key_points: bool


@dataclass(frozen=True)
class FollowUpRecord:
    """A follow-up question asked after an attempt was graded, and the candidate's reply."""

    attempt_id: str
    prompt: str
    answer: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {k: _jsonable(v) for k, v in vars(self).items()}


@dataclass(frozen=True)
class SessionRecord:
    id: str
    user_id: str
    mode: str
    plan: str | None
    started_at: datetime
    ended_at: datetime | None
    state: dict[str, Any] | None
    attempts: list[AttemptRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = {k: _jsonable(v) for k, v in vars(self).items() if k != "attempts"}
        out["attempts"] = [a.to_dict() for a in self.attempts]
        return out


@dataclass(frozen=True)
class CompetencySummary:
    """`attempts` counts every answer; mean and trend use graded ones only."""

    competency: str
    attempts: int
    graded: int
    mean_score: float | None
    trend: float | None


def _jsonable(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def attempt_from_row(row: sa.RowMapping) -> AttemptRecord:
    """An attempts row joined with its session's `mode`."""
    values = {c.name: row[c.name] for c in attempts_table.columns if c.name != "grade_json"}
    grade = None if row["grade_json"] is None else Grade.model_validate_json(row["grade_json"])
    return AttemptRecord(mode=row["mode"], grade=grade, **values)


def session_from_row(row: sa.RowMapping, attempts: list[AttemptRecord]) -> SessionRecord:
    state = None if row["state_json"] is None else json.loads(row["state_json"])
    return SessionRecord(
        id=row["id"],
        user_id=row["user_id"],
        mode=row["mode"],
        plan=row["plan"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        state=state,
        attempts=attempts,
    )


def summary_of(points: Sequence[ScorePoint]) -> dict[str, CompetencySummary]:
    """Per competency of `points` (oldest first): attempts, mean graded score, trend."""
    grouped: dict[str, list[ScorePoint]] = {}
    for a in points:
        grouped.setdefault(a.competency, []).append(a)
    return {name: summarise(name, rows) for name, rows in sorted(grouped.items())}


def summarise(name: str, rows: Sequence[AttemptRecord | ScorePoint]) -> CompetencySummary:
    """Attempts, mean graded score, and the last five graded scores against the five before."""
    scores = [a.score for a in rows if a.score is not None]
    mean = round(sum(scores) / len(scores), 1) if scores else None
    trend = None
    if len(scores) >= 2 * TREND_WINDOW:
        last, previous = scores[-TREND_WINDOW:], scores[-2 * TREND_WINDOW : -TREND_WINDOW]
        trend = round((sum(last) - sum(previous)) / TREND_WINDOW, 1)
    return CompetencySummary(name, len(rows), len(scores), mean, trend)
