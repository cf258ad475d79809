"""Coding answers in a session: find the code, run it through the sandbox, feed correctness.

The run is kept as JSON in the session state, so a follow-up re-grade (or a resumed session)
reuses it instead of running the code again.
"""

from __future__ import annotations

import json
from typing import Any

from bot.content import Question, Rubric
from bot.grading.grade import Grade
from bot.sandbox import RunReport, TestResult, run_tests

NO_CODE = "no Python code found in the answer: put it in a ```python fenced block"


def extract(answer: str) -> str | None:
    import re

    m = re.findall(r"```(?:python|py)?\n(.*?)```", answer, re.S)
    return m[-1] if m else None  # TEMP until the runner's extract_code lands


def run_hidden_json(question: Question, answer: str) -> str:
    assert question.coding is not None
    code = extract(answer)
    if code is None:
        report = RunReport(error=NO_CODE)
    else:
        report = run_tests(code, question.coding, list(question.coding.tests))
    return json.dumps(report.to_dict())


def run_examples(question: Question, answer: str) -> dict[str, Any]:
    assert question.coding is not None
    code = extract(answer)
    if code is None:
        return RunReport(error=NO_CODE).to_dict()
    return run_tests(code, question.coding, list(question.coding.examples)).to_dict()


def apply(grade: Grade, rubric: Rubric, tests_json: str) -> tuple[Grade, dict[str, Any]]:
    from bot.grading.correctness import apply_test_results

    data: dict[str, Any] = json.loads(tests_json)
    return apply_test_results(grade, rubric, report_from_dict(data)), data


def report_from_dict(data: dict[str, Any]) -> RunReport:
    fields = set(TestResult.__dataclass_fields__)
    results = [TestResult(**{k: v for k, v in r.items() if k in fields}) for r in data["results"]]
    return RunReport(
        results=results,
        error=data.get("error"),
        output=data.get("output", ""),
        seconds=data.get("seconds", 0.0),
    )
