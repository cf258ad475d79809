from __future__ import annotations

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.content import CodingSpec, Question
from bot.sandbox import Limits, run_tests

CODING = {
    path.stem: path for path in sorted((PROJECT_ROOT / "question_bank").glob("**/coding-*.yaml"))
}


def coding_of(path: object) -> CodingSpec:
    question = Question.model_validate(yaml.safe_load(CODING[str(path)].read_text()))
    assert question.coding is not None
    return question.coding


def spec() -> CodingSpec:
    return coding_of("coding-pair-sum-indices")


@pytest.mark.parametrize("question_id", sorted(CODING))
def test_reference_solution_passes_its_own_tests(question_id: str) -> None:
    coding = coding_of(question_id)
    report = run_tests(coding.reference_solution, coding, [*coding.examples, *coding.tests])
    failures = [r for r in report.results if r.status != "passed"]
    assert report.error is None, report.error
    assert not failures, failures
    assert report.total == len(coding.examples) + len(coding.tests)


HOSTILE = [
    (
        "def pair_sum_indices(nums, target):\n    while True:\n        pass\n",
        "timeout",
        "time limit",
    ),
    ("import os\ndef pair_sum_indices(nums, target):\n    os._exit(3)\n", "killed", "exited"),
    ("def pair_sum_indices(nums, target):\n    raise SystemExit(0)\n", "error", "SystemExit"),
    (
        "def pair_sum_indices(nums, target):\n    return list(range(10**10))\n",
        "error",
        "MemoryError",
    ),
    (
        "import sys\ndef pair_sum_indices(nums, target):\n    while True:\n"
        "        sys.stdout.write('x' * 65536)\n",
        "error",
        "File too large",
    ),
    (
        "import os\ndef pair_sum_indices(nums, target):\n"
        "    return [len(os.environ.get('OPENAI_API_KEY', ''))]\n",
        "failed",
        None,
    ),
]


@pytest.mark.parametrize(("code", "status", "detail"), HOSTILE)
def test_hostile_code_is_contained(
    code: str, status: str, detail: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    tests = list(spec().examples)
    report = run_tests(code, spec(), tests, limits=Limits(memory_bytes=512 * 1024 * 1024))
    assert report.total == len(tests), "every test gets a result, even after a crash"
    first = report.results[0]
    assert first.status == status, first
    if detail:
        assert detail in (first.error or ""), first
    if status == "failed":
        assert first.actual == "[0]", "the environment is scrubbed"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("def pair_sum_indices(nums, target)\n    return []\n", "SyntaxError"),
        ("def other(nums, target):\n    return []\n", "no function or class named"),
    ],
)
def test_code_that_does_not_load_is_reported(code: str, message: str) -> None:
    report = run_tests(code, spec(), list(spec().examples))
    assert report.error is not None and message in report.error
    assert report.total == 0


def test_wrong_signature_is_an_error_per_test() -> None:
    report = run_tests(
        "def pair_sum_indices(nums):\n    return []\n", spec(), list(spec().examples)
    )
    assert [r.status for r in report.results] == ["error", "error"]
    assert "TypeError" in (report.results[0].error or "")


def test_tests_after_a_timeout_still_run() -> None:
    code = (
        "def pair_sum_indices(nums, target):\n"
        "    if target == 9:\n        while True: pass\n"
        "    return [1, 2]\n"
    )
    report = run_tests(code, spec(), list(spec().examples))
    assert [r.status for r in report.results] == ["timeout", "passed"]
