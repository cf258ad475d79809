"""A session's resumable state: plain pydantic data, saved to the store after every step."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from bot.content.models import TargetLevel
from bot.interview.editor import fenced

Mode = Literal["mock", "drill", "single"]

Phase = Literal["answering", "follow_up"]
STATE_VERSION = 1


class _State(BaseModel):
    pass


class DrillSpec(_State):
    competency: str
    tag: str | None = None
    difficulty: int | None = Field(default=None, ge=1, le=5)


class RoundState(_State):
    name: str
    kind: str
    minutes: int
    competencies: list[str] = Field(default_factory=list)
    tag: str | None = None
    difficulty: int | None = None
    started_at: datetime | None = None
    warned: bool = False
    planned: list[str] = Field(default_factory=list)  # question ids, picked when the round opens
    reached: bool = False

    def deadline(self) -> datetime | None:
        if self.started_at is None:
            return None
        return self.started_at + timedelta(minutes=self.minutes)


class FollowUpAsk(_State):
    prompt: str  # the offline wording: the bank's follow-up, or the one on the candidate's code
    probes: list[str]
    said: str | None = None  # the words the candidate was asked in; None until asked
    voice: str = "offline"  # who worded them: offline, or the LLM provider
    note: str = ""  # why the offline wording stands, when an LLM was asked

    @property
    def shown(self) -> str:
        return self.said or self.prompt


class Current(_State):
    """The question being answered now."""

    question_id: str
    reason: str = ""
    round_index: int | None = None
    started_at: datetime
    draft: list[str] = Field(default_factory=list)
    hints_used: int = 0
    phase: Phase = "answering"
    attempt_id: str | None = None
    follow_ups: list[FollowUpAsk] = Field(default_factory=list)
    follow_up_index: int = 0
    follow_up_answers: list[str] = Field(default_factory=list)
    tests_json: str | None = None  # the hidden-test run of a coding answer, as JSON
    clarified: list[int] = Field(default_factory=list)  # facts the candidate asked about
    code: str = ""  # the code editor's text, when the candidate wrote some (bot.interview.editor)
    tests_for: str | None = None  # sha256 of the answer that run was made on

    @property
    def answer(self) -> str:
        """The chat draft, then the editor's code as the last python block."""
        parts = [*self.draft, fenced(self.code) if self.code.strip() else ""]
        return "\n\n".join(part for part in parts if part.strip())


class Result(_State):
    """What the session remembers of each finished question (for progression and the report)."""

    question_id: str
    round_name: str | None
    kind: str
    competency: str
    difficulty: int
    attempt_id: str | None
    score: float | None  # None when skipped
    missed: list[str] = Field(default_factory=list)
    covered: list[str] = Field(default_factory=list)
    hints_used: int = 0
    seconds: float = 0.0
    timed_out: bool = False
    unfinished: bool = False  # the session ended while this answer was being written (saved)
    tests: tuple[int, int] | None = None  # hidden tests (passed, total) of a coding answer


class SessionState(_State):
    version: int = STATE_VERSION
    mode: Mode
    plan_id: str | None = None
    drill: DrillSpec | None = None
    rounds: list[RoundState] = Field(default_factory=list)
    round_index: int = 0
    difficulty: int = 3
    level: TargetLevel = "mid"  # the hiring bar a mock interview is judged against
    grader: str = "auto"
    current: Current | None = None
    results: list[Result] = Field(default_factory=list)
    max_questions: int | None = None
    on_break: bool = False  # between two mock rounds, waiting for the candidate
    ended: bool = False

    @property
    def asked(self) -> set[str]:
        done = {r.question_id for r in self.results}
        return done | ({self.current.question_id} if self.current else set())
