from __future__ import annotations

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.content import Question, Rubric
from bot.errors import BotError
from bot.grading.correctness import apply_test_results, correctness_level, run_evidence
from bot.grading.grade import CriterionScore, Grade, GraderInfo, KeyPointResult
from bot.sandbox import RunReport, TestResult, run_tests


def rubric() -> Rubric:
    return Rubric.model_validate(yaml.safe_load((PROJECT_ROOT / "rubrics/coding.yaml").read_text()))


def grade(level: int = 2) -> Grade:
    r = rubric()
    criteria = [
        CriterionScore(
            id=c.id,
            name=c.name,
            weight=c.weight,
            level=level,
            label="adequate",
            score=100 * level / 4,
            evidence=[f"quote for {c.id}"],
        )
        for c in r.criteria
    ]
    key_points = [
        KeyPointResult(
            id="hash-map", text="Use a hash map", weight=1, status="covered", confidence=1
        )
    ]
    return Grade.assemble(
        question_id="coding-pair-sum-indices",
        rubric=r,
        criteria=criteria,
        key_points=key_points,
        improvements=["Say the complexity."],
        notes=["an earlier note"],
        grader=GraderInfo(name="offline", model="m", version="v"),
    )


def result(index: int, status: str, category: str, *, hidden: bool = True) -> TestResult:
    return TestResult(index, f"t{index}", category, status, hidden=hidden)  # type: ignore[arg-type]


def seven_of_ten() -> RunReport:
    statuses = ["passed"] * 7 + ["failed", "timeout", "failed"]
    categories = ["general"] * 7 + ["empty input", "large input: time limit", "empty input"]
    hidden = [result(i, s, c) for i, (s, c) in enumerate(zip(statuses, categories, strict=True))]
    examples = [
        result(10, "passed", "general", hidden=False),
        result(11, "failed", "x", hidden=False),
    ]
    return RunReport(results=examples + hidden)


@pytest.mark.parametrize(
    ("passed", "total", "level"),
    [(10, 10, 4), (9, 10, 3), (8, 10, 3), (7, 10, 2), (5, 10, 2), (4, 10, 1), (1, 10, 1)]
    + [(0, 10, 0), (0, 0, 0), (4, 5, 3), (1, 2, 2)],
)
def test_levels_follow_the_pass_rate(passed: int, total: int, level: int) -> None:
    assert correctness_level(passed, total) == level


def test_hidden_tests_set_correctness_and_failing_code_bounds_the_rest() -> None:
    before = grade(level=3)
    after = apply_test_results(before, rubric(), seven_of_ten())
    correctness = next(c for c in after.criteria if c.id == "correctness")
    # the level follows the thresholds; the score follows the pass rate itself
    assert (correctness.level, correctness.label, correctness.score) == (2, "adequate", 70.0)
    assert correctness.evidence == [
        "passed 7/10 hidden tests; failing: empty input, large input: time limit (timed out)"
    ]
    assert correctness.feedback == "Right idea with bugs on some inputs."
    # every other criterion keeps 70% of its credit: the explanation is not backed by the code
    for b, a in zip(before.criteria, after.criteria, strict=True):
        if a.id != "correctness":
            assert a.score == round(b.score * 0.7, 1) and a.evidence == b.evidence
    assert [k.confidence for k in after.key_points] == [0.7]
    assert after.improvements == before.improvements and after.strengths == []
    assert after.score < rubric().pass_mark and not after.passed
    assert after.notes[0] == "an earlier note"
    assert after.notes[1].startswith(
        "Correctness from the hidden tests: level 2 (adequate), passed"
    )
    assert "fails 3 of 10 hidden tests" in after.notes[2] and "cannot pass" in after.notes[2]


def test_one_failing_hidden_test_keeps_a_strong_answer_below_the_pass_mark() -> None:
    before = grade(level=4)
    nine = RunReport(results=[result(i, "passed" if i else "failed", "general") for i in range(10)])
    after = apply_test_results(before, rubric(), nine)
    assert before.passed and not after.passed
    assert after.score == rubric().pass_mark - 1


def test_all_hidden_tests_passing_lifts_the_grade_over_the_pass_mark() -> None:
    before = grade(level=2)
    all_pass = RunReport(results=[result(i, "passed", "general") for i in range(8)])
    after = apply_test_results(before, rubric(), all_pass)
    weights = {c.id: c.weight for c in rubric().criteria}
    expected = (30 * 100 + (sum(weights.values()) - 30) * 50) / sum(weights.values())
    assert after.score == round(expected, 1) == 65.0 and after.passed
    assert after.key_points == before.key_points
    failed = apply_test_results(before, rubric(), RunReport(results=[result(0, "failed", "x")]))
    assert failed.score == round((sum(weights.values()) - 30) * 50 * 0.2 / sum(weights.values()), 1)
    assert not failed.passed


def test_code_that_did_not_load_scores_zero() -> None:
    report = RunReport(error='  File "solution.py", line 1\n    def f(\n SyntaxError: bad input')
    after = apply_test_results(grade(3), rubric(), report)
    correctness = next(c for c in after.criteria if c.id == "correctness")
    assert correctness.level == 0
    assert correctness.evidence == ["the code did not load: SyntaxError: bad input"]


def test_an_answer_without_code_scores_zero_and_says_so() -> None:
    report = RunReport(error="no Python code found in the answer", code_found=False)
    after = apply_test_results(grade(3), rubric(), report)
    correctness = next(c for c in after.criteria if c.id == "correctness")
    assert correctness.level == 0
    assert correctness.evidence == ["no code found in the answer"]
    assert after.score <= rubric().pass_mark / 2 and not after.passed
    assert any("without code cannot pass" in n for n in after.notes)
    assert RunReport.from_dict(report.to_dict()).code_found is False
    assert RunReport.from_dict({"results": []}).code_found, "runs stored before the field"


def test_a_run_without_hidden_tests_uses_all_its_tests() -> None:
    examples = RunReport(
        results=[result(0, "passed", "a", hidden=False), result(1, "error", "b", hidden=False)]
    )
    level, evidence = run_evidence(examples)
    assert (level, evidence) == (2, "passed 1/2 tests; failing: b (error)")
    assert run_evidence(RunReport()) == (0, "no test ran")


def test_applying_twice_keeps_one_note() -> None:
    once = apply_test_results(grade(), rubric(), seven_of_ten())
    twice = apply_test_results(once, rubric(), RunReport(results=[result(0, "passed", "x")]))
    notes = [n for n in twice.notes if n.startswith("Correctness from")]
    assert len(notes) == 1 and "passed 1/1 hidden tests" in notes[0]
    assert not any(n.startswith("Bounded by the code") for n in twice.notes)


def test_a_grade_of_another_rubric_or_a_rubric_without_correctness_is_refused() -> None:
    other = rubric().model_copy(update={"id": "system-design"})
    with pytest.raises(BotError, match="uses rubric 'coding'"):
        apply_test_results(grade(), other, seven_of_ten())
    trimmed = rubric().model_copy(
        update={"criteria": [c for c in rubric().criteria if c.id != "correctness"]}
    )
    with pytest.raises(BotError, match="no 'correctness' criterion"):
        apply_test_results(grade(), trimmed, seven_of_ten())


def test_a_real_run_of_the_reference_solution_earns_level_four() -> None:
    path = PROJECT_ROOT / "question_bank/coding/coding-pair-sum-indices.yaml"
    coding = Question.model_validate(yaml.safe_load(path.read_text())).coding
    assert coding is not None
    report = run_tests(coding.reference_solution, coding, [*coding.examples, *coding.tests])
    after = apply_test_results(grade(1), rubric(), report)
    correctness = next(c for c in after.criteria if c.id == "correctness")
    assert correctness.level == 4
    assert correctness.evidence == [f"passed {len(coding.tests)}/{len(coding.tests)} hidden tests"]
