"""Coding answers in a session: find the code, run it in the sandbox, feed correctness.

The hidden-test run is kept as JSON in the session state, so a follow-up re-grade (or a resumed
session) reuses it instead of running the code again. The engine runs in worker threads, so it uses
the runner's blocking entry point, which shares the process's concurrency cap
(INTERVIEW_BOT_RUNNER_CONCURRENCY) with every other caller.
"""

from __future__ import annotations

import json
from typing import Any

from bot.content import CodeTest, Question, Rubric
from bot.grading.correctness import apply_test_results
from bot.grading.grade import Grade
from bot.sandbox import RunReport, run_tests_capped
from bot.sandbox.code_input import extract_code

NO_CODE = "no Python code found in the answer: put it in a ```python fenced block"


def extract(question: Question, answer: str) -> str | None:
    entry = question.coding.entry_point if question.coding else None
    return extract_code(answer, entry_point=entry)


def _run(question: Question, answer: str, tests: list[CodeTest]) -> RunReport:
    assert question.coding is not None
    code = extract(question, answer)
    if code is None:
        return RunReport(error=NO_CODE)
    return run_tests_capped(code, question.coding, tests)


def run_hidden_json(question: Question, answer: str) -> str:
    """The hidden tests, as Submit runs them; the report as JSON."""
    assert question.coding is not None
    return json.dumps(_run(question, answer, list(question.coding.tests)).to_dict())


def run_examples(question: Question, answer: str) -> dict[str, Any]:
    assert question.coding is not None
    return _run(question, answer, list(question.coding.examples)).to_dict()


def apply(grade: Grade, rubric: Rubric, tests_json: str) -> tuple[Grade, dict[str, Any]]:
    data: dict[str, Any] = json.loads(tests_json)
    return apply_test_results(grade, rubric, RunReport.from_dict(data)), data
