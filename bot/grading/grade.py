"""The Grade: what every grader returns, what is stored and exported. Versioned; keep it stable."""

from __future__ import annotations

import hashlib
import math
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from bot.config import GRADER_CHOICES
from bot.content import Criterion, Level, Question, Rubric
from bot.sandbox.report import Status

GRADE_SCHEMA_VERSION = 1
# The roadmap's score bands (0-100), shared by drill progression, spaced repetition and reports:
# at least STRONG_MARK moves up a level, HOLD_MARK to STRONG_MARK - 1 stays at the level, below
# HOLD_MARK steps back; EASY_MARK and above is an easy review.
EASY_MARK = 90
STRONG_MARK = 80
HOLD_MARK = 60
STRENGTH_MARK = 70  # the session report lists an answer's covered points as strengths from here
Coverage = Literal["covered", "partial", "missed", "contradicted"]


def whole(score: float) -> int:
    """A score in whole points, halves up: the one rounding for what is shown and what decides
    (a stored 79.5 is 80 on screen and 80 for the level rule)."""
    return math.floor(score + 0.5)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CriterionScore(_Record):
    id: str
    name: str
    weight: float
    level: int = Field(ge=0, le=4, description="Rubric level reached, 0-4.")
    label: str = Field(default="", description="The rubric's name for that level.")
    score: float = Field(ge=0, le=100, description="The level on the 0-100 scale.")
    evidence: list[str] = Field(default_factory=list, description="Exact quotes from the answer.")
    feedback: str = ""

    @classmethod
    def at(
        cls,
        criterion: Criterion,
        level: Level,
        *,
        score: float,
        evidence: list[str],
        feedback: str | None = None,
    ) -> CriterionScore:
        """The criterion scored at `level`; feedback defaults to the level's descriptor."""
        return cls(
            id=criterion.id,
            name=criterion.name,
            weight=criterion.weight,
            level=level.score,
            label=level.label,
            score=score,
            evidence=evidence,
            feedback=level.descriptor if feedback is None else feedback,
        )


class KeyPointResult(_Record):
    id: str
    text: str
    weight: float
    status: Coverage
    confidence: float = Field(ge=0, le=1, description="How strongly the answer supports it.")
    evidence: str | None = Field(default=None, description="The quote that covers it.")
    correction: str | None = Field(
        default=None, description="When contradicted: what is true instead, or what changed."
    )

    @property
    def covered(self) -> bool:
        return self.status == "covered"


class RedFlagResult(_Record):
    """A misconception of the question's list, found in the answer."""

    id: str
    text: str
    correction: str
    key_point: str | None = None
    quote: str = Field(description="The sentence of the answer that says it.")


class GraderInfo(_Record):
    name: str = Field(
        description=", ".join(c for c in GRADER_CHOICES if c != "auto")  # the resolved grader
    )
    model: str
    version: str
    prompt_hash: str = ""
    fallback_reason: str | None = Field(
        default=None, description="Why an LLM grade fell back to the offline grader."
    )
    llm_attempts: int = Field(
        default=0, ge=0, description="LLM calls this grade took, failed ones included (0 offline)."
    )
    llm_output: str | None = Field(
        default=None,
        description="When the LLM grader gave up: its last raw reply, clipped, secrets removed.",
    )


class Usage(_Record):
    seconds: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class SetAside(_Record):
    """A part of the answer that earned nothing, and why: text addressed to the grader, a
    repeat, a copy (of `source`) or a list of terms."""

    reason: str
    text: str
    source: str | None = None


class TestOutcome(_Record):
    """One hidden test as a grade keeps it: never its input, expected value or output."""

    __test__ = False  # not a pytest test class, whatever its name
    name: str
    category: str
    status: Status
    seconds: float = Field(ge=0)
    message: str | None = Field(
        default=None, description="A bound's check: why it failed (sizes, times, the rule)."
    )


class RunSummary(_Record):
    """The hidden tests run on a coding answer's code, as far as the grade needs to know."""

    code_found: bool = Field(description="False when the answer held no code to run.")
    passed: int = Field(ge=0)
    total: int = Field(ge=0)
    error: str | None = Field(
        default=None, description="Why no test ran: no code, or the code did not load."
    )
    tests: list[TestOutcome] = Field(default_factory=list)
    growth: str | None = Field(
        default=None, description="How the code's time grew in the scaling check: '~n per call'."
    )


class Grade(_Record):
    schema_version: int = GRADE_SCHEMA_VERSION
    question_id: str
    rubric_id: str
    rubric_version: int
    score: float = Field(ge=0, le=100)
    passed: bool
    criteria: list[CriterionScore]
    key_points: list[KeyPointResult]
    strengths: list[str] = Field(default_factory=list)
    improvements: list[str] = Field(default_factory=list)
    follow_up: str | None = None
    notes: list[str] = Field(default_factory=list, description="Truncation, injection, fallback.")
    red_flags: list[RedFlagResult] = Field(
        default_factory=list, description="Misconceptions found in the answer, with corrections."
    )
    set_aside: list[SetAside] = Field(
        default_factory=list, description="Parts of the answer that earned nothing, and why."
    )
    language: str = Field(default="English", description="The language the answer reads as.")
    grader: GraderInfo
    usage: Usage = Field(default_factory=Usage)
    run: RunSummary | None = Field(
        default=None, description="The hidden-test run of a coding answer; None for other kinds."
    )

    @classmethod
    def assemble(
        cls,
        *,
        question_id: str,
        rubric: Rubric,
        criteria: list[CriterionScore],
        key_points: list[KeyPointResult],
        **rest: Any,
    ) -> Grade:
        """A grade whose overall score is the rubric-weighted mean of its criteria."""
        total = sum(c.weight for c in criteria)
        score = round(sum(c.score * c.weight for c in criteria) / total, 1)
        return cls(
            question_id=question_id,
            rubric_id=rubric.id,
            rubric_version=rubric.version,
            score=score,
            passed=score >= rubric.pass_mark,
            criteria=criteria,
            key_points=key_points,
            **rest,
        )

    def rescored(self, rubric: Rubric, **changes: Any) -> Grade:
        """This grade with `changes` applied and its score and pass re-derived from its
        criteria, capped at `cap` when one is given (everything else is kept)."""
        cap = changes.pop("cap", 100.0)
        updated = self.model_copy(update=changes)
        total = sum(c.weight for c in updated.criteria)
        score = round(sum(c.score * c.weight for c in updated.criteria) / total, 1)
        score = min(score, cap)
        return updated.model_copy(update={"score": score, "passed": score >= rubric.pass_mark})

    def with_hints(self, rubric: Rubric, hints: int) -> Grade:
        """This grade less the rubric's discount for each hint taken, said in its notes."""
        off = round(rubric.hint_discount * hints, 1)
        if off <= 0:
            return self
        score = max(0.0, round(self.score - off, 1))
        note = (
            f"{hints} hint(s) taken: {off:g} points off "
            f"({rubric.hint_discount:g} per hint in the {rubric.title} rubric)."
        )
        return self.model_copy(
            update={
                "score": score,
                "passed": score >= rubric.pass_mark,
                "notes": [*self.notes, note],
            }
        )

    def missed(self) -> list[KeyPointResult]:
        return [k for k in self.key_points if k.status != "covered"]


def prompt_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]


class Grader(Protocol):
    """What every grader offers: a name and a grade for one answer to one question."""

    name: str

    def grade(self, question: Question, rubric: Rubric, answer: str) -> Grade: ...
