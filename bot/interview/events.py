"""What the engine tells the front end: one small dataclass per thing that happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.content import Question
from bot.grading.grade import Grade


@dataclass(frozen=True)
class QuestionAsked:
    question: Question
    reason: str
    number: int
    round_name: str | None = None
    round_number: int | None = None
    rounds_total: int | None = None
    deadline: datetime | None = None
    resumed: bool = False
    draft: str = ""


@dataclass(frozen=True)
class ClarificationGiven:
    reply: str
    source: str  # offline, or the LLM provider that worded it
    note: str = ""  # why the offline wording stands, when an LLM was asked


@dataclass(frozen=True)
class DraftNoted:
    words: int


@dataclass(frozen=True)
class HintShown:
    text: str
    number: int
    total: int


@dataclass(frozen=True)
class Graded:
    grade: Grade
    question: Question
    attempt_id: str
    seconds: float
    hints_used: int
    timed_out: bool = False
    tests: dict[str, Any] | None = None  # the hidden-test run of a coding answer


@dataclass(frozen=True)
class FollowUpAsked:
    prompt: str
    number: int
    total: int
    source: str = "offline"  # who worded it: offline, or the LLM provider
    note: str = ""  # why the offline wording stands, when an LLM was asked


@dataclass(frozen=True)
class FollowUpGraded:
    grade: Grade
    newly_covered: list[str]
    still_missed: list[str]


@dataclass(frozen=True)
class Skipped:
    question_id: str
    saved: bool


@dataclass(frozen=True)
class TimerWarning:
    round_name: str
    minutes_left: int


@dataclass(frozen=True)
class TimedOut:
    round_name: str


@dataclass(frozen=True)
class RoundBreak:
    """A mock round is over; the next starts (and its clock runs) when the candidate is ready."""

    finished: str
    next_name: str
    next_number: int
    rounds_total: int
    next_minutes: int


@dataclass(frozen=True)
class Notice:
    text: str


@dataclass(frozen=True)
class SessionEnded:
    report: str


Event = (
    QuestionAsked
    | ClarificationGiven
    | DraftNoted
    | HintShown
    | Graded
    | FollowUpAsked
    | FollowUpGraded
    | Skipped
    | TimerWarning
    | TimedOut
    | RoundBreak
    | Notice
    | SessionEnded
)
