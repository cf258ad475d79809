"""ML coding questions: their shape, and every wrong solution of the bank fails its hidden tests."""

from __future__ import annotations

import pytest

from bot.config import PROJECT_ROOT
from bot.content import Question, load_bank

BANK = load_bank(PROJECT_ROOT)
ML = sorted((q for q in BANK.questions.values() if "ml-coding" in q.tags), key=lambda q: q.id)
WRONG = [  # the ML questions' own (tests/test_bounds.py runs every question's, bounds included)
    pytest.param(q, w.name, w.code, id=f"{q.id}:{w.name}")
    for q in ML
    if q.coding is not None
    for w in q.coding.wrong_solutions
]


def test_there_are_ten_ml_questions_over_difficulties_two_to_five() -> None:
    assert len(ML) >= 10
    assert {q.difficulty for q in ML} == {2, 3, 4, 5}


@pytest.mark.parametrize("question", ML, ids=lambda q: q.id)
def test_an_ml_question_is_complete(question: Question) -> None:
    coding = question.coding
    assert coding is not None and question.kind == "coding" and question.competency == "C1"
    assert len(coding.tests) >= 8 and 3 <= len(question.red_flags) <= 6
    assert coding.wrong_solutions, "one wrong solution per stated bound"
    assert "Bounds the hidden tests hold you to" in " ".join(question.prompt.split())
    assert BANK.reference(question.id).doc.sources


@pytest.mark.parametrize(("question", "name", "code"), WRONG)
def test_a_wrong_solution_fails_a_hidden_test_or_bound(
    question: Question, name: str, code: str
) -> None:
    from bot.sandbox import run_tests

    assert question.coding is not None
    coding = question.coding
    report = run_tests(code, coding, [*coding.examples, *coding.tests], bounds=True)
    assert report.error is None, f"{name} does not even load: {report.error}"
    assert report.passed < report.total, f"{name} passes every test and bound of {question.id}"
