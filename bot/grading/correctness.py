"""Correctness of a coding answer from what its code does on the hidden tests.

The rubric's `correctness` level comes from the share of hidden tests passed (a run with no hidden
test at all, such as an examples-only run, uses every test it has):

    all of them       -> 4   (excellent)
    at least 80 %     -> 3   (strong: a slip on a rare case)
    at least 50 %     -> 2   (adequate: right idea, bugs on some inputs)
    at least one      -> 1   (weak: fails on common inputs)
    none, no code in the answer, or the code did not load -> 0

The other criteria, the key points and the feedback stay as the grader gave them; the overall score
is re-assembled by the rubric's weighted mean, and a note says where the level came from.
"""

from __future__ import annotations

from bot.content import Rubric
from bot.errors import BotError
from bot.grading.grade import CriterionScore, Grade
from bot.sandbox import RunReport
from bot.sandbox.run_report import failing_categories

THRESHOLDS = ((1.0, 4), (0.8, 3), (0.5, 2))
NOTE = "Correctness from the hidden tests"


def correctness_level(passed: int, total: int) -> int:
    """The level for `passed` of `total` tests (thresholds above)."""
    if total <= 0 or passed <= 0:
        return 0
    rate = passed / total
    return next((level for floor, level in THRESHOLDS if rate >= floor), 1)


def run_evidence(report: RunReport) -> tuple[int, str]:
    """The level a run earns and the sentence that says why."""
    if not report.code_found:
        return 0, "no code found in the answer"
    if report.error is not None:
        return 0, f"the code did not load: {report.error.strip().splitlines()[-1].strip()}"
    scored = [r for r in report.results if r.hidden] or report.results
    kind = "hidden tests" if any(r.hidden for r in report.results) else "tests"
    if not scored:
        return 0, "no test ran"
    passed = sum(r.status == "passed" for r in scored)
    evidence = f"passed {passed}/{len(scored)} {kind}"
    failing = failing_categories(report, hidden_only=kind == "hidden tests")
    if failing:
        evidence += "; failing: " + ", ".join(failing)
    return correctness_level(passed, len(scored)), evidence


def apply_test_results(
    grade: Grade, rubric: Rubric, report: RunReport, *, criterion: str = "correctness"
) -> Grade:
    """`grade` with the rubric's correctness criterion set from the test run."""
    if grade.rubric_id != rubric.id:
        raise BotError(f"the grade uses rubric '{grade.rubric_id}', not '{rubric.id}'")
    spec = next((c for c in rubric.criteria if c.id == criterion), None)
    if spec is None:
        raise BotError(f"rubric '{rubric.id}' has no '{criterion}' criterion")
    wanted, evidence = run_evidence(report)
    level = spec.nearest_level(wanted)
    scored = CriterionScore.at(
        spec, level, score=round(100 * level.score / 4, 1), evidence=[evidence]
    )
    criteria = [scored if c.id == criterion else c for c in grade.criteria]
    if all(c.id != criterion for c in grade.criteria):
        criteria.append(scored)
    note = f"{NOTE}: level {level.score} ({level.label}), {evidence}."
    return Grade.assemble(
        question_id=grade.question_id,
        rubric=rubric,
        criteria=criteria,
        key_points=grade.key_points,
        strengths=grade.strengths,
        improvements=grade.improvements,
        follow_up=grade.follow_up,
        notes=[n for n in grade.notes if not n.startswith(NOTE)] + [note],
        grader=grade.grader,
        usage=grade.usage,
    )
