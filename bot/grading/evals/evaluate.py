"""Measure a grader against human scores: shared CSV datasets or the project's labelled set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.content import ContentBank, Criterion, KeyPoint, Level, Question, Rubric
from bot.grading.evals.datasets import ScoredAnswer, key_points_from_reference
from bot.grading.evals.metrics import agreement
from bot.grading.grade import Grader

LEVELS = [
    Level(score=s, label=label, descriptor=label)
    for s, label in enumerate(("absent", "weak", "adequate", "strong", "excellent"))
]
# Rows from outside the bank are graded against this rubric: substance with a little clarity,
# like the deep-dive rubric.
GENERIC_RUBRIC = Rubric(
    id="reference-answer",
    version=1,
    title="Answer against a reference",
    kinds=["llm_deep_dive"],
    pass_mark=50,
    hire_bar={"junior": 60, "mid": 70, "senior": 78, "staff": 85},
    criteria=[
        Criterion(
            id="accuracy",
            name="Accuracy and coverage",
            weight=90,
            description="Covers the reference answer's points correctly.",
            levels=LEVELS,
        ),
        Criterion(
            id="clarity",
            name="Clarity",
            weight=10,
            description="On topic and clear.",
            levels=LEVELS,
        ),
    ],
)


def question_for(row: ScoredAnswer, bank: ContentBank | None) -> tuple[Question, Rubric]:
    """The bank's question when the row belongs to it; else one built from the reference."""
    if bank is not None and row.question_id in bank.questions:
        question = bank.questions[row.question_id]
        return question, bank.rubrics[question.rubric]
    key_points: list[KeyPoint] = key_points_from_reference(row.reference)
    question = Question.model_construct(
        id=f"dataset-{row.question_id}",
        title=row.question[:60],
        kind="llm_deep_dive",
        competency="C2",
        tags=["dataset"],
        difficulty=3,
        interview_frequency="low",
        prerequisites=[],
        suggested_minutes=5,
        prompt=row.question,
        key_points=key_points,
        hints=[],
        follow_ups=[],
        rubric=GENERIC_RUBRIC.id,
        reference="",
        clarifications=[],
        coding=None,
    )
    return question, GENERIC_RUBRIC


def evaluate(
    grader: Grader,
    rows: list[ScoredAnswer],
    bank: ContentBank | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """n, Pearson, Spearman, QWK (5 bins), MAE; ROC AUC when binary; also on answers >= 5 words."""
    predicted: list[float] = []
    for n, row in enumerate(rows, start=1):
        question, rubric = question_for(row, bank)
        predicted.append(grader.grade(question, rubric, row.answer).score)
        if progress:
            progress(n, len(rows))
    gold = [r.score for r in rows]
    binary = bool(rows) and rows[0].binary
    table: dict[str, Any] = agreement(predicted, gold, binary=binary)
    long_ones = [i for i, r in enumerate(rows) if len(r.answer.split()) >= 5]
    table["answers_of_5_words_or_more"] = agreement(
        [predicted[i] for i in long_ones], [gold[i] for i in long_ones], binary=binary
    )
    return table
