"""The one way an answer is graded, in the app and on the command line alike.

Any answer gets the configured grader's grade of its text. A coding answer also has its code found
(bot/sandbox/code_input.py) and run on the question's hidden tests (bot/sandbox/runner.py); the
share passed sets the rubric's correctness level (bot/grading/correctness.py), the growth the
scaling check measured is set against the complexity the answer claims (bot/grading/complexity.py),
and the grade carries a summary of the run (`Grade.run`) that never holds a hidden test's input or
expected value.

The runs go through the runner's blocking entry point, which shares the process's concurrency cap
(INTERVIEW_BOT_RUNNER_CONCURRENCY) with every other caller, so this is safe in worker threads.
"""

from __future__ import annotations

from bot.content import CodeTest, Question, Rubric
from bot.grading.complexity import apply_measured_growth, growth_words
from bot.grading.correctness import apply_test_results
from bot.grading.grade import Grade, Grader, RunSummary, TestOutcome
from bot.sandbox import RunReport, run_tests_capped
from bot.sandbox.code_input import extract_code

NO_CODE = "no Python code found in the answer: put it in a ```python fenced block"


def extract(question: Question, answer: str) -> str | None:
    """The code to run from `answer`, or None when it holds none."""
    entry = question.coding.entry_point if question.coding else None
    return extract_code(answer, entry_point=entry)


def run_hidden(question: Question, answer: str) -> RunReport:
    """The answer's code on the question's hidden tests and bounds (what Submit and `grade` run)."""
    assert question.coding is not None, f"{question.id} is not a coding question"
    return _run(question, answer, list(question.coding.tests), bounds=True)


def run_examples(question: Question, answer: str) -> RunReport:
    """The answer's code on the question's visible examples."""
    assert question.coding is not None, f"{question.id} is not a coding question"
    return _run(question, answer, list(question.coding.examples))


def grade_answer(
    grader: Grader,
    question: Question,
    rubric: Rubric,
    answer: str,
    *,
    run: RunReport | None = None,
) -> Grade:
    """`grader`'s grade of `answer`; for a coding question, with correctness from the hidden tests.

    `run` is a hidden-test run already made on this answer's code (a follow-up re-grade reuses
    the first run instead of running the code again); without it the tests run here.
    """
    if question.coding is None:
        return grader.grade(question, rubric, answer)
    report = run if run is not None else run_hidden(question, answer)
    graded = apply_test_results(grader.grade(question, rubric, answer), rubric, report)
    if report.growth is not None:
        graded = apply_measured_growth(graded, rubric, answer, report.growth)
    return graded.model_copy(update={"run": summarise(report)})


def summarise(report: RunReport) -> RunSummary:
    """What a grade keeps of a run: status, name, category and time of each test."""
    return RunSummary(
        code_found=report.code_found,
        passed=report.passed,
        total=report.total,
        error=report.error,
        tests=[
            TestOutcome(
                name=r.name,
                category=r.category,
                status=r.status,
                seconds=r.seconds,
                message=r.error if r.check is not None else None,
            )
            for r in report.results
        ],
        growth=growth_words(report.growth) if report.growth is not None else None,
    )


def _run(
    question: Question, answer: str, tests: list[CodeTest], *, bounds: bool = False
) -> RunReport:
    assert question.coding is not None
    code = extract(question, answer)
    if code is None:
        return RunReport(error=NO_CODE, code_found=False)
    return run_tests_capped(code, question.coding, tests, bounds=bounds)
