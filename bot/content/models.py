"""Pydantic schemas for every content file: questions, rubrics, kb front matter, labelled answers.

The schemas are the single source of truth: the loader validates against them, `interview-bot
schema` exports them as JSON Schema for editors, and `Field(description=...)` documents each field.
"""

from __future__ import annotations

import keyword
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from bot.content.bounds import Bounds, LinkedIO
from bot.content.fields import Slug, Strict, Text

Kind = Literal["coding", "system_design", "llm_deep_dive", "behavioral"]
KINDS: tuple[Kind, ...] = ("coding", "system_design", "llm_deep_dive", "behavioral")
Competency = Literal["C1", "C2", "C3", "C4", "C5", "C6", "BH"]
COMPETENCIES: dict[str, str] = {
    "C1": "Python and DSA for AI systems",
    "C2": "ML and DL fundamentals",
    "C3": "Transformers and LLM internals",
    "C4": "Adaptation and retrieval",
    "C5": "Agents, evals and guardrails",
    "C6": "Production GenAI engineering",
    "BH": "Behavioral",
}
Frequency = Literal["low", "medium", "high"]
Loc = tuple[int | str, ...]


class KeyPoint(Strict):
    """A fact or move that a strong answer contains."""

    id: Slug
    text: Text = Field(description="What the candidate should say or do, in one sentence.")
    weight: float = Field(default=1.0, gt=0, le=10, description="Relative importance.")
    cues: list[Text] = Field(
        default_factory=list,
        max_length=8,
        description=(
            "How a candidate might say it in their own words (first person, concrete): the "
            "offline grader matches an answer against these as well as against `text`. Useful "
            "where the point is abstract (behavioral signals) and answers are stories."
        ),
    )


MIN_RED_FLAGS = 3


class RedFlag(Strict):
    """A misconception or wrong move a real interviewer listens for, with its correction."""

    id: Slug
    text: Text = Field(
        description="The wrong claim or move, stated as a candidate would make it (one sentence)."
    )
    correction: Text = Field(description="What is true instead, in one line.")
    key_point: Slug | None = Field(
        default=None, description="Id of the key point whose credit this error takes away."
    )
    cues: list[Text] = Field(
        default_factory=list,
        max_length=8,
        description="Other ways a candidate might say the same wrong thing (first person).",
    )


class FollowUp(Strict):
    """A follow-up question that probes one or more key points."""

    prompt: Text
    probes: list[Slug] = Field(min_length=1, description="Key point ids this follow-up probes.")


class Clarification(Strict):
    """A fact the interviewer reveals when the candidate asks about it (system design)."""

    topic: Literal["scale", "constraint", "non_goal", "requirement", "environment"]
    ask: Text = Field(description="The kind of question that reveals this fact.")
    answer: Text = Field(description="What the interviewer says.")


class CodeTest(Strict):
    """One test case: positional args for a function, or constructor args plus method calls."""

    name: Text | None = None
    category: Text = Field(default="general", description="Shown when hidden, e.g. 'empty input'.")
    args: list[Any] | None = Field(default=None, description="Positional arguments.")
    args_expr: Text | None = Field(
        default=None,
        description="A Python expression that builds the argument list (large inputs).",
    )
    calls: list[tuple[str, list[Any]]] | None = Field(
        default=None, description="For class questions: [method, [args]] pairs, in order."
    )
    expected: Any = Field(description="Return value, or for class questions the list of results.")
    time_limit_s: float = Field(default=2.0, gt=0, le=10)

    @model_validator(mode="after")
    def _one_input(self) -> CodeTest:
        if (self.args is None) == (self.args_expr is None):
            raise ValueError("give exactly one of 'args' and 'args_expr'")
        return self


class WrongSolution(Strict):
    """A solution that returns right answers but breaks a bound the prompt states: it must fail."""

    name: Slug
    breaks: Text = Field(description="The stated bound or rule it breaks, e.g. 'O(n) time'.")
    code: Text


class CodingSpec(Strict):
    """What a coding question needs to be run: entry point, tests and a reference solution."""

    style: Literal["function", "class"] = "function"
    entry_point: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    signature: Text = Field(description="The signature shown to the candidate.")
    compare: Literal["exact", "unordered", "unordered_nested", "float", "allclose"] = Field(
        default="exact",
        description=(
            "How a returned value is compared with the expected one. allclose: numbers (and "
            "nested lists of them, e.g. a numpy array's .tolist()) match when |got - expected| "
            "<= atol + rtol * |expected|, shapes must agree, NaN and infinities only match "
            "themselves; other values must be equal."
        ),
    )
    rtol: float = Field(default=1e-6, ge=0, le=1, description="allclose: relative tolerance.")
    atol: float = Field(default=1e-9, ge=0, le=1, description="allclose: absolute tolerance.")
    examples: list[CodeTest] = Field(min_length=2, description="Visible to the candidate.")
    tests: list[CodeTest] = Field(min_length=8, description="Hidden tests, edge cases included.")
    reference_solution: Text
    complexity: Text = Field(description="Time and space complexity of the reference solution.")
    wrong_solutions: list[WrongSolution] = Field(
        default_factory=list,
        description="Solutions that must fail the hidden tests: one per bound the prompt states.",
    )
    bounds: Bounds = Field(
        default_factory=Bounds, description="What Submit enforces beyond right answers."
    )
    linked: LinkedIO | None = Field(
        default=None, description="An argument given as a linked list of the harness's ListNode."
    )
    observe_arg: int | None = Field(
        default=None,
        ge=0,
        description="An argument the function must change in place: each test's value is "
        "[return value, that argument after the call].",
    )

    @field_validator("entry_point")
    @classmethod
    def _not_keyword(cls, name: str) -> str:
        if keyword.iskeyword(name):
            raise ValueError(f"'{name}' is a Python keyword")
        return name

    @model_validator(mode="after")
    def _tolerances_need_allclose(self) -> CodingSpec:
        fields = type(self).model_fields
        given = {  # set to something else than the default (a dumped spec repeats the defaults)
            n for n in ("rtol", "atol") if getattr(self, n) != fields[n].default
        }
        if given and self.compare != "allclose":
            raise ValueError(f"{' and '.join(sorted(given))} apply only to compare: allclose")
        return self

    @model_validator(mode="after")
    def _calls_match_style(self) -> CodingSpec:
        needs_calls = self.style == "class"
        for case in (*self.examples, *self.tests):
            if (case.calls is not None) != needs_calls:
                raise ValueError(
                    f"{self.style} questions {'need' if needs_calls else 'take no'} 'calls' "
                    f"in every test (test {case.name or case.category!r})"
                )
        return self

    @model_validator(mode="after")
    def _bounds_fit(self) -> CodingSpec:
        function = self.style == "function"
        if self.bounds.stress is not None and function:
            raise ValueError("a stress bound needs a class question")
        if self.bounds.relink is not None and self.linked is None:
            raise ValueError("a relink bound needs linked-list input ('linked')")
        if (self.linked is not None or self.observe_arg is not None) and not function:
            raise ValueError("'linked' and 'observe_arg' are for function questions")
        for name in ("scaling", "memory", "relink"):
            workload = getattr(self.bounds, name)
            if workload is not None and (workload.calls_expr is None) == (not function):
                raise ValueError(f"bounds.{name}: class questions, and only they, need calls_expr")
        return self


class Question(Strict):
    """One interview question (one YAML file in question_bank/)."""

    id: Slug
    title: Text
    kind: Kind
    competency: Competency = Field(description="C1..C6, or BH for behavioral questions.")
    tags: list[Slug] = Field(min_length=1)
    difficulty: int = Field(ge=1, le=5)
    interview_frequency: Frequency
    prerequisites: list[Slug] = Field(default_factory=list, description="Question ids.")
    suggested_minutes: int = Field(ge=1, le=90)
    prompt: Text
    key_points: list[KeyPoint] = Field(min_length=3, max_length=8)
    hints: list[Text] = Field(min_length=2, description="A ladder: each hint a little stronger.")
    follow_ups: list[FollowUp] = Field(min_length=2)
    rubric: Slug
    reference: Slug = Field(description="Id of the reference answer document in kb/.")
    clarifications: list[Clarification] = Field(default_factory=list)
    coding: CodingSpec | None = None
    red_flags: list[RedFlag] = Field(
        default_factory=list,
        max_length=6,
        description="Misconceptions and wrong moves (3-6), each with a correction.",
    )

    def problems(self) -> list[tuple[Loc, str]]:
        """Consistency problems inside this question, each with the location it is about."""
        found: list[tuple[Loc, str]] = []
        ids = self.key_point_ids
        for i, kp in enumerate(self.key_points):
            if ids.index(kp.id) != i:
                found.append((("key_points", i, "id"), f"duplicate key point id '{kp.id}'"))
        for i, follow_up in enumerate(self.follow_ups):
            for j, probe in enumerate(follow_up.probes):
                if probe not in ids:
                    found.append(
                        (("follow_ups", i, "probes", j), f"no key point '{probe}' in this question")
                    )
        flag_ids = [flag.id for flag in self.red_flags]
        for i, flag in enumerate(self.red_flags):
            if flag_ids.index(flag.id) != i:
                found.append((("red_flags", i, "id"), f"duplicate red flag id '{flag.id}'"))
            if flag.key_point is not None and flag.key_point not in ids:
                found.append(
                    (
                        ("red_flags", i, "key_point"),
                        f"no key point '{flag.key_point}' in this question",
                    )
                )
        if len(self.red_flags) < MIN_RED_FLAGS:
            found.append((("red_flags",), f"give {MIN_RED_FLAGS}-6 red flags"))
        if (self.kind == "coding") != (self.coding is not None):
            found.append((("coding",), "required for coding questions and only for them"))
        if self.kind == "system_design" and len(self.clarifications) < 4:
            found.append((("clarifications",), "system design questions need at least 4"))
        if self.kind != "system_design" and self.clarifications:
            found.append((("clarifications",), "only system design questions have them"))
        if (self.kind == "behavioral") != (self.competency == "BH"):
            found.append((("competency",), "behavioral questions, and only they, use BH"))
        if self.id in self.prerequisites:
            found.append((("prerequisites",), "a question cannot be its own prerequisite"))
        return found

    @property
    def key_point_ids(self) -> list[str]:
        return [kp.id for kp in self.key_points]


class Level(Strict):
    score: int = Field(ge=0, le=4, description="0 (absent) to 4 (excellent).")
    label: Text
    descriptor: Text


class Criterion(Strict):
    id: Slug
    name: Text
    weight: float = Field(gt=0, le=100)
    description: Text
    levels: list[Level] = Field(min_length=2)

    def nearest_level(self, wanted: int) -> Level:
        """The level closest to `wanted` (0-4); the lower one on a tie."""
        return min(self.levels, key=lambda lv: (abs(lv.score - wanted), lv.score))

    @model_validator(mode="after")
    def _levels(self) -> Criterion:
        scores = [lv.score for lv in self.levels]
        if len(set(scores)) != len(scores):
            raise ValueError("level scores must be unique")
        return self


TargetLevel = Literal["junior", "mid", "senior", "staff"]
TARGET_LEVELS: tuple[TargetLevel, ...] = ("junior", "mid", "senior", "staff")


class Rubric(Strict):
    """Weighted criteria with level descriptors (one YAML file in rubrics/)."""

    id: Slug
    version: int = Field(ge=1)
    title: Text
    kinds: list[Kind] = Field(min_length=1, description="Question kinds that may use this rubric.")
    pass_mark: int = Field(ge=0, le=100)
    hint_discount: float = Field(default=0, ge=0, le=25, description="Points off per hint taken.")
    hire_bar: dict[TargetLevel, int] = Field(
        description="The score a hire needs at each target level (junior to staff), rising."
    )
    criteria: list[Criterion] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Rubric:
        ids = [c.id for c in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError("criterion ids must be unique")
        bars = [self.hire_bar.get(level, 0) for level in TARGET_LEVELS]
        if bars != sorted(bars) or not all(0 < b <= 100 for b in bars):
            raise ValueError(f"hire_bar needs {', '.join(TARGET_LEVELS)}, rising, each 1-100")
        return self


class KbDoc(Strict):
    """Front matter of a Markdown document in kb/."""

    id: Slug
    title: Text
    kind: Literal["reference", "note"]
    competency: Competency
    questions: list[Slug] = Field(default_factory=list, description="Question ids it answers.")
    tags: list[Slug] = Field(default_factory=list)
    sources: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _reference_has_question(self) -> KbDoc:
        if self.kind == "reference" and not self.questions:
            raise ValueError("a reference document names the questions it answers")
        return self


class LabelledAnswer(Strict):
    id: Slug
    score: int = Field(ge=0, le=100, description="Human score on the 0-100 scale.")
    covers: list[Slug] = Field(description="Key point ids the answer covers.")
    text: str = Field(description="The answer, as a candidate would give it.")


class LabelledSet(Strict):
    """Human-scored answers to one question (one YAML file in bench/labelled/)."""

    question: Slug
    answers: list[LabelledAnswer] = Field(min_length=4, max_length=6)


class PlanRound(Strict):
    """One timed round of a mock interview."""

    name: Text
    kind: Kind
    minutes: int = Field(ge=1, le=120)
    competencies: list[Competency] = Field(
        default_factory=list, description="Draw from these competencies only (empty: any)."
    )
    tag: Slug | None = Field(default=None, description="Draw only questions with this tag.")
    difficulty: int | None = Field(
        default=None, ge=1, le=5, description="Target difficulty (default: the session's)."
    )


class RoundPlan(Strict):
    """A named mock-interview plan (one YAML file in plans/)."""

    id: Slug
    title: Text
    description: Text
    warn_minutes: int = Field(default=5, ge=1, le=30, description="Warn this long before time-out.")
    rounds: list[PlanRound] = Field(min_length=1, max_length=8)
