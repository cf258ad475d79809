"""The complexity an answer claims, against the growth its code showed."""

from __future__ import annotations

import pytest

from bot.config import PROJECT_ROOT
from bot.content import load_bank
from bot.grading.coding import grade_answer
from bot.grading.complexity import claimed_time, compare
from bot.grading.offline import OfflineGrader
from bot.sandbox.report import Growth


@pytest.mark.parametrize(
    ("answer", "claim", "degree"),
    [
        ("It is O(n) time and O(1) space.", "O(n)", 1),
        ("O(1) extra space, O(n log n) time", "O(n log n)", 1),
        ("Space is O(n). Time O(n^2).", "O(n^2)", 2),
        ("O(n) with O(n) memory", "O(n)", 1),
        ("runs in O(n²)", "O(n²)", 2),
        ("O(nk) in the worst case", "O(nk)", 2),
        ("O(N log k) time, O(k) space", "O(N log k)", 1),
        ("each query is O(log n)", "O(log n)", 0),
        ("get and put are O(1) on average", "O(1)", 0),
        ("O(V + E) for the graph", "O(V + E)", 1),
        ("I did not analyse it.", None, None),
    ],
)
def test_the_time_claim_is_read_from_the_answer(
    answer: str, claim: str | None, degree: int | None
) -> None:
    found = claimed_time(answer)
    assert (found.text, found.degree) == (claim, degree) if found else claim is None


def test_a_claim_is_compared_with_the_measured_growth() -> None:
    quadratic = Growth(unit="call", asks="O(n) time", candidate=2.03, reference=1.0)
    sentence, wrong = compare("Stack of indices, O(n log n) time.", quadratic)
    assert sentence == "You said O(n log n); measured growth is ~n^2 per call."
    assert wrong
    linear = Growth(unit="call", asks="O(n) time", candidate=1.1, reference=1.0)
    assert compare("O(n) time", linear) == (
        "You said O(n); measured growth is ~n per call, which agrees.",
        False,
    )


def test_a_graded_quadratic_scan_fails_its_bound_and_its_claim() -> None:
    bank = load_bank(PROJECT_ROOT)
    question = bank.question("coding-daily-temperatures")
    assert question.coding is not None
    scan = next(w for w in question.coding.wrong_solutions if w.name == "forward-scan")
    answer = f"I scan forward from each day; it is O(n) time.\n\n```python\n{scan.code}\n```\n"
    grade = grade_answer(OfflineGrader(bank), question, bank.rubric(question.rubric), answer)
    assert grade.run is not None and grade.run.growth == "~n^2 per call"
    bound = next(t for t in grade.run.tests if t.name == "time as n grows")
    assert bound.status == "failed" and "grows ~n^2" in (bound.message or "")
    assert "You said O(n); measured growth is ~n^2 per call." in grade.improvements
    complexity = next(c for c in grade.criteria if c.id == "complexity")
    correctness = next(c for c in grade.criteria if c.id == "correctness")
    assert complexity.level <= 1 and correctness.level < 4 and not grade.passed
