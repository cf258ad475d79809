"""The bounds a coding question states: every wrong solution fails them, every reference passes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.content import CodeTest, CodingSpec, Question
from bot.content.bounds import DEGREE, Rule, ScalingBound
from bot.sandbox import run_tests
from bot.sandbox.bounds import (
    DOUBT,
    doubtful,
    judge_memory,
    judge_relink,
    judge_scaling,
    scaling_probes,
)
from bot.sandbox.isolation import machine
from bot.sandbox.plan import prepare
from bot.sandbox.report import Growth, Limits, RunReport, TestResult
from bot.sandbox.rules import broken
from bot.sandbox.runner import measure_again

CODING = {p.stem: p for p in sorted((PROJECT_ROOT / "question_bank").glob("**/coding-*.yaml"))}


def coding_of(question_id: str) -> CodingSpec:
    question = Question.model_validate(yaml.safe_load(CODING[question_id].read_text()))
    assert question.coding is not None
    return question.coding


WRONG = [(qid, wrong.name) for qid in sorted(CODING) for wrong in coding_of(qid).wrong_solutions]


@pytest.mark.parametrize(("question_id", "name"), WRONG)
def test_every_wrong_solution_fails_a_test_or_a_bound(question_id: str, name: str) -> None:
    """The scaling check is a measurement: on a busy machine a quadratic solution has passed it
    about once in a thousand checks (5 times in 6 suite runs of ~200 wrong solutions each). A
    second Submit must catch it: one that passes twice in a row fails this test."""
    coding = coding_of(question_id)
    wrong = next(w for w in coding.wrong_solutions if w.name == name)
    for _ in range(2):
        report = run_tests(wrong.code, coding, list(coding.tests), bounds=True)
        assert report.error is None, report.error  # it must load: it fails on what it does
        failed = [(r.name, r.status, r.error) for r in report.results if r.status != "passed"]
        if failed:
            return
    pytest.fail(f"{name} ({wrong.breaks}) passed every hidden test and bound, twice")


@pytest.mark.parametrize("question_id", sorted(CODING))
def test_the_reference_passes_every_bound(question_id: str) -> None:
    coding = coding_of(question_id)
    report = run_tests(coding.reference_solution, coding, list(coding.tests), bounds=True)
    failed = [(r.name, r.status, r.error) for r in report.results if r.status != "passed"]
    assert report.error is None and not failed, failed
    checks = [r for r in report.results if r.check is not None]
    b = coding.bounds
    wanted = [b.scaling, b.memory, b.stress, b.relink].count(None)
    assert len(checks) == 4 - wanted + len(b.rules)


def rule(kind: str, *names: str, **extra: object) -> Rule:
    return Rule.model_validate({"kind": kind, "names": list(names), "message": "m", **extra})


@pytest.mark.parametrize(
    ("code", "the_rule", "where"),
    [
        ("x = [1]\nx.pop(0)\n", rule("method", "pop", args=[0]), "line 2: .pop(0)"),
        ("x = [1]\nx.pop()\n", rule("method", "pop", args=[0]), None),
        ("x = [1]\nx.pop(-1)\n", rule("method", "pop", args=[0]), None),
        ("import bisect\n", rule("import", "bisect"), "line 1: import bisect"),
        ("from bisect import bisect_left\n", rule("import", "bisect"), "line 1: import bisect"),
        ("m = __import__('bisect')\n", rule("import", "bisect"), "line 1: import bisect"),
        ("y = sorted([2, 1])\n", rule("call", "sorted"), "line 1: sorted(...)"),
        ("y = [2, 1]\ny.sort()\n", rule("name", "sort"), "line 2: .sort"),
        (
            "from collections import deque\n",
            rule("name", "deque"),
            "line 1: from collections import deque",
        ),
        ("x: list[int] = []\n", rule("call", "list"), None),
        (
            "import threading\n",
            rule("call", "Lock", "RLock", require=True),
            "not found in the code",
        ),
        ("import threading\nL = threading.Lock()\n", rule("method", "Lock", require=True), None),
    ],
)
def test_structure_rules_read_the_syntax_tree(code: str, the_rule: Rule, where: str | None) -> None:
    assert broken(code, the_rule) == where


SCALING = ScalingBound(
    args_expr="[n]", sizes=[1000, 2000, 4000, 8000], growth="n", asks="O(n) time"
)


def rows(power: float, *, lag: float = 1.0) -> list[list[float]]:
    """Times of a reference growing like n and a candidate growing like n^power."""
    return [
        [n, lag * 1e-3 * (n / 1000) ** power, 1e-3 * n / 1000] for n in (1000, 2000, 4000, 8000)
    ]


@pytest.mark.parametrize(
    ("facts", "passed", "label"),
    [
        ({"rows": rows(1.0)}, True, "n"),
        ({"rows": rows(1.0, lag=30.0)}, True, "n"),  # slower by a constant: the growth decides
        ({"rows": rows(1.15)}, True, "n"),  # a log factor does not fail
        ({"rows": rows(2.0)}, False, "n^2"),
        ({"rows": rows(2.0)[:3], "over": True}, False, "n^2"),
        ({"rows": rows(1.0, lag=60.0)[:1], "over": True}, False, None),  # far behind at once
        ({"rows": rows(1.0, lag=5.0)[:2], "over": True}, True, None),
        # sizes below the question's, added by a probe that ran out of time: the lag counts too
        ({"rows": rows(1.0, lag=60.0), "smaller": 2}, False, None),
        ({"rows": rows(1.0, lag=30.0), "smaller": 2}, True, "n"),
        ({"rows": rows(2.0), "smaller": 2}, False, "n^2"),
        ({"rows": "forged"}, False, None),
    ],
)
def test_the_scaling_judge_compares_growth_not_seconds(
    facts: dict[str, object], passed: bool, label: str | None
) -> None:
    verdict = judge_scaling(SCALING, facts)
    assert verdict.passed is passed
    if label is not None:
        assert verdict.growth is not None and verdict.growth.label == label
    if not passed and label is not None:
        assert f"grows ~{label} between n=1,000" in verdict.message
        assert "the question asks for O(n) time" in verdict.message


def test_smaller_sizes_and_the_questions_own_sizes_are_both_read() -> None:
    """Smaller sizes, measured when too few of the question's sizes fit the budget, may hide a
    growth that shows only at the question's sizes; two sizes alone may be too noisy to show it."""
    quadratic = rows(2.0)  # n = 1000 .. 8000, the first two standing in for smaller sizes
    noisy = [quadratic[0], quadratic[1], [4000, quadratic[2][1], quadratic[2][2] * 1.6]]
    verdict = judge_scaling(SCALING, {"rows": noisy, "smaller": 1})
    assert not verdict.passed and "between n=1,000 and n=4,000" in verdict.message
    hidden = [[1000, 1e-3, 1e-3], [2000, 2e-3, 2e-3], [4000, 4e-3, 4e-3], [8000, 16e-3, 8e-3]]
    verdict = judge_scaling(SCALING, {"rows": hidden, "smaller": 2})
    assert not verdict.passed and "between n=4,000 and n=8,000" in verdict.message
    assert judge_scaling(SCALING, {"rows": rows(1.0), "smaller": 2}).passed


def test_memory_and_relink_judges() -> None:
    memory = coding_of("coding-reverse-k-group").bounds.memory
    assert memory is not None
    assert judge_memory(memory, {"candidate": 900_000, "reference": 400}).passed is False
    assert judge_memory(memory, {"candidate": 9_000, "reference": 400}).passed  # under the floor
    assert judge_relink({"new": 0, "changed": 0}).passed
    assert "3 nodes that were not in the input" in judge_relink({"new": 3, "changed": 0}).message


def test_linked_questions_take_and_return_list_nodes() -> None:
    coding = coding_of("coding-reverse-k-group")
    plain = "def reverse_in_groups(head, k):\n    return [1, 2]\n"
    test = CodeTest(args=[[2, 1], 2], expected=[1, 2])
    report = run_tests(plain, coding, [test])
    assert report.results[0].status == "error"
    assert "return the head ListNode" in (report.results[0].error or "")


def test_in_place_questions_see_the_argument_after_the_call() -> None:
    coding = coding_of("coding-dedupe-sorted-in-place")
    test = CodeTest(args=[[1, 1, 2]], expected=[2, [1, 2]])
    untouched = run_tests("def dedupe_sorted(nums):\n    return 2\n", coding, [test])
    assert untouched.results[0].actual == "[2, [1, 1, 2]]"
    assert run_tests(coding.reference_solution, coding, [test]).passed == 1


def test_a_pass_close_to_the_limit_is_measured_again(tmp_path: Path) -> None:
    """A scaling check that passes with an excess near the limit is measured a second time, and
    a second measurement that fails replaces the pass: the report tells the fail and its growth."""
    coding = coding_of("coding-merge-intervals")
    assert coding.bounds.scaling is not None
    degree = DEGREE[coding.bounds.scaling.growth]
    near = Growth("call", "O(n log n) time", degree + DOUBT, degree)
    assert doubtful(coding, near)
    assert not doubtful(coding, Growth("call", "O(n log n) time", degree + DOUBT - 0.01, degree))
    assert not doubtful(coding, None)
    assert not doubtful(coding, Growth("call", "O(n log n) time", degree + 1.0, degree))  # failed
    quadratic = next(w for w in coding.wrong_solutions if w.name == "rescan-merged-per-interval")
    passed = TestResult(7, "time as n grows", "scaling", "passed", hidden=True, check="scaling")
    report = RunReport(results=[passed], growth=near)
    run = prepare(coding, scaling_probes(coding), Limits(), machine(), None, tmp_path / "again")
    measure_again(quadratic.code, run, report)
    (result,) = report.results
    assert (result.index, result.status, result.check) == (7, "failed", "scaling")
    assert result.error is not None and "grows ~n^2" in result.error
    assert report.growth is not None and report.growth.label == "n^2"
