"""Correctness of a coding answer from what its code does on the hidden tests.

The rubric's `correctness` level comes from the share of hidden tests passed (a run with no hidden
test at all, such as an examples-only run, uses every test it has). A bound the question states
(bot/sandbox/bounds.py: time growth, memory, threads, relinking, structure rules) is checked on
Submit with a result row of its own, hidden, and counts like a hidden test:

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
from bot.grading.evidence import COVERED, PARTIAL
from bot.grading.grade import Coverage, CriterionScore, Grade, KeyPointResult
from bot.sandbox import RunReport
from bot.sandbox.run_report import failing_categories

THRESHOLDS = ((1.0, 4), (0.8, 3), (0.5, 2))
NOTE = "Correctness from the hidden tests"
BOUND = "Bounded by the code"
EXPLANATION_FLOOR = 0.2  # code that fails every test still leaves this share of the explanation


def no_code_cap(rubric: Rubric) -> float:
    """The most a coding answer without code can score: half the pass mark."""
    return rubric.pass_mark / 2


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
    if any(r.check is not None for r in scored):
        kind += " and bound checks"
    evidence = f"passed {passed}/{len(scored)} {kind}"
    failing = failing_categories(report, hidden_only=kind.startswith("hidden tests"))
    if failing:
        evidence += "; failing: " + ", ".join(failing)
    broken = [r.error for r in scored if r.check is not None and r.status == "failed" and r.error]
    if broken:
        evidence += "; " + "; ".join(broken)
    return correctness_level(passed, len(scored)), evidence


def apply_test_results(
    grade: Grade, rubric: Rubric, report: RunReport, *, criterion: str = "correctness"
) -> Grade:
    """`grade` with the rubric's correctness criterion set from the test run, and the rest of
    the grade bounded by what the code does (see `bound_by_code`)."""
    if grade.rubric_id != rubric.id:
        raise BotError(f"the grade uses rubric '{grade.rubric_id}', not '{rubric.id}'")
    spec = next((c for c in rubric.criteria if c.id == criterion), None)
    if spec is None:
        raise BotError(f"rubric '{rubric.id}' has no '{criterion}' criterion")
    wanted, evidence = run_evidence(report)
    level = spec.nearest_level(wanted)
    rate = pass_rate(report)
    scored = CriterionScore.at(spec, level, score=round(100 * rate, 1), evidence=[evidence])
    criteria = [scored if c.id == criterion else c for c in grade.criteria]
    if all(c.id != criterion for c in grade.criteria):
        criteria.append(scored)
    note = f"{NOTE}: level {level.score} ({level.label}), {evidence}."
    notes = [n for n in grade.notes if not n.startswith((NOTE, BOUND))] + [note]
    return bound_by_code(grade, rubric, report, criteria, notes, criterion)


def pass_rate(report: RunReport) -> float:
    """Share of the hidden tests passed (every test, when the run had no hidden one)."""
    if not report.code_found or report.error is not None:
        return 0.0
    scored = [r for r in report.results if r.hidden] or report.results
    return sum(r.status == "passed" for r in scored) / len(scored) if scored else 0.0


def bound_by_code(
    grade: Grade,
    rubric: Rubric,
    report: RunReport,
    criteria: list[CriterionScore],
    notes: list[str],
    criterion: str,
) -> Grade:
    """The explanation earns credit only as far as the code bears it out.

    No code: the answer cannot pass (score at most half the pass mark). Code that fails any
    hidden test: every other criterion and every key point keep only the pass rate's share of
    their credit (an explanation of why greedy fails is not backed by greedy code), and the
    score stays below the pass mark."""
    rate = pass_rate(report)
    if not report.code_found:
        note = f"{BOUND}: a coding answer without code cannot pass (at most {no_code_cap(rubric)})."
        return grade.rescored(
            rubric, criteria=criteria, notes=[*notes, note], cap=no_code_cap(rubric)
        )
    if rate >= 1.0:
        return grade.rescored(rubric, criteria=criteria, notes=notes)
    factor = max(rate, EXPLANATION_FLOOR)
    bounded = [c if c.id == criterion else _scaled(c, rubric, factor) for c in criteria]
    key_points = [_scaled_point(k, factor) for k in grade.key_points]
    note = (
        f"{BOUND}: the code fails {_failed(report)}, so the explanation keeps "
        f"{round(100 * factor)}% of its credit and the answer cannot pass until every test passes."
    )
    return grade.rescored(
        rubric,
        criteria=bounded,
        key_points=key_points,
        strengths=[s for s in grade.strengths if not s.startswith("Covered:")],
        notes=[*notes, note],
        cap=rubric.pass_mark - 1,
    )


def _failed(report: RunReport) -> str:
    if report.error is not None:
        return "to load"
    scored = [r for r in report.results if r.hidden] or report.results
    failed = sum(r.status != "passed" for r in scored)
    return f"{failed} of {len(scored)} hidden tests"


def _scaled(score: CriterionScore, rubric: Rubric, factor: float) -> CriterionScore:
    spec = next(c for c in rubric.criteria if c.id == score.id)
    value = round(score.score * factor, 1)
    level = spec.nearest_level(round(value / 25))
    return CriterionScore.at(spec, level, score=value, evidence=score.evidence)


def _scaled_point(point: KeyPointResult, factor: float) -> KeyPointResult:
    confidence = round(point.confidence * factor, 3)
    status: Coverage = (
        "covered" if confidence >= COVERED else "partial" if confidence >= PARTIAL else "missed"
    )
    if point.status == "missed":
        status = "missed"
    return point.model_copy(update={"confidence": confidence, "status": status})
