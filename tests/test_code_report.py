from __future__ import annotations

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.content import CodeTest, CodingSpec, Question
from bot.sandbox import RunReport, TestResult, run_tests
from bot.sandbox.code_input import extract_code, fenced_blocks
from bot.sandbox.run_report import failing_categories, render_run

SOLUTION = "def pair_sum_indices(nums, target):\n    return [0, 1]\n"


def coding(name: str = "coding-pair-sum-indices") -> CodingSpec:
    path = PROJECT_ROOT / f"question_bank/coding/{name}.yaml"
    spec = Question.model_validate(yaml.safe_load(path.read_text())).coding
    assert spec is not None
    return spec


def secret_tests() -> list[CodeTest]:
    return [
        CodeTest(name="empty", category="empty input", args=[[], 31337], expected=[424242]),
        CodeTest(
            name="big",
            category="large input: time limit",
            args_expr="[[7] * 99991, 14]",
            expected=[5, 6],
        ),
        CodeTest(
            name="negatives", category="negative numbers", args=[[-8, 77], 69], expected=[0, 1]
        ),
        CodeTest(name="dupes", category="duplicates", args=[[5, 5], 10], expected=[0, 1]),
    ]


def hidden(
    index: int, name: str, category: str, status: str, ms: float, **extra: str
) -> TestResult:
    return TestResult(index, name, category, status, ms / 1000, hidden=True, **extra)  # type: ignore[arg-type]


def hidden_report() -> RunReport:
    return RunReport(
        results=[
            hidden(0, "empty", "empty input", "error", 0.4, error="KeyError: 31337"),
            hidden(
                1,
                "big",
                "large input: time limit",
                "timeout",
                2000,
                error="time limit exceeded (2 s)",
            ),
            hidden(2, "negatives", "negative numbers", "failed", 1, actual="[77, -8]"),
            hidden(3, "dupes", "duplicates", "passed", 1.2, actual="[0, 1]"),
        ],
        output="printed 31337 and 99991\n",
        seconds=2.31,
    )


def test_hidden_tests_show_status_name_category_and_time_only() -> None:
    md = render_run(hidden_report(), secret_tests(), hidden=True)
    for leak in ("31337", "424242", "99991", "77", "-8", "[0, 1]", "printed"):
        assert leak not in md, leak
    assert md.startswith("❌ **1/4 hidden tests passed** in 2.31 s")
    assert "| ⚠️ | empty | empty input | error: KeyError | 0.4 |" in md
    assert (
        "| ⏱️ | big | large input: time limit | timed out: time limit exceeded (2 s) | 2000.0 |"
        in md
    )
    assert "| ❌ | negatives | negative numbers | wrong answer | 1.0 |" in md
    assert "| ✅ | dupes | duplicates | passed | 1.2 |" in md
    assert md.endswith(
        "Failing: empty input (error), large input: time limit (timed out), negative numbers"
    )


def test_examples_show_input_expected_actual_and_output() -> None:
    spec = coding()
    code = "def pair_sum_indices(nums, target):\n    print('looking', target)\n    return [0, 1]\n"
    report = run_tests(code, spec, list(spec.examples))
    md = render_run(report, list(spec.examples), hidden=False)
    assert md.startswith("❌ **1/2 tests passed** in ")
    assert "| ✅ | basic (passed) | `([2, 7, 11, 15], 9)` | `[0, 1]` | `[0, 1]` |" in md
    assert "| ❌ | later pair (wrong answer) | `([3, 2, 4], 6)` | `[1, 2]` | `[0, 1]` |" in md
    assert "Printed output:\n\n```text\nlooking 9\nlooking 6\n```" in md


def test_class_questions_show_the_calls() -> None:
    test = CodeTest(
        name="evicts",
        category="capacity",
        args=[2],
        calls=[("put", [1, 1]), ("get", [1])],
        expected=[None, 1],
    )
    report = RunReport(
        results=[TestResult(0, "evicts", "capacity", "error", error="AttributeError: x")]
    )
    md = render_run(report, [test], hidden=False)
    assert "`new(2); put(1, 1); get(1)` | `[None, 1]` | `AttributeError: x`" in md


def test_a_load_error_is_shown_in_a_block_of_its_own() -> None:
    error = '  File "solution.py", line 1\n    x = ```\n        ^\nSyntaxError: invalid syntax'
    md = render_run(RunReport(error=error), [], hidden=True)
    assert md.startswith("❌ **The code did not load**, so no test ran:\n\n````text\n")
    assert md.endswith("SyntaxError: invalid syntax\n````")
    real = run_tests("def pair_sum_indices(nums):\n  return [\n", coding(), list(coding().examples))
    assert "SyntaxError" in render_run(real, list(coding().examples), hidden=False)


def test_long_values_are_cut_and_pipes_escaped() -> None:
    test = CodeTest(name="a|b", args=["x" * 500, "p|q"], expected="y" * 500)
    report = RunReport(results=[TestResult(0, "a|b", "general", "failed", actual="'z'")])
    md = render_run(report, [test], hidden=False)
    row = next(line for line in md.splitlines() if line.startswith("| ❌"))
    assert "a\\|b" in row and "x" * 79 not in row and "…" in row


def test_failing_categories_once_each_with_how_they_failed() -> None:
    report = hidden_report()
    report.results.append(TestResult(4, "empty 2", "empty input", "error", hidden=True))
    report.results.append(TestResult(5, "ex", "example", "failed", hidden=False))
    assert failing_categories(report) == [
        "empty input (error)",
        "large input: time limit (timed out)",
        "negative numbers",
        "example",
    ]
    assert "example" not in failing_categories(report, hidden_only=True)
    assert failing_categories(RunReport()) == []


PY = "def pair_sum_indices(nums, target):\n    return []\n"
EXTRACT = [
    ("fenced python", f"Here:\n```python\n{PY}```\nDone.", PY),
    (
        "py tag and a later fix",
        f"```py\ndef pair_sum_indices(a, b): pass\n```\nfix:\n```py\n{PY}```",
        PY,
    ),
    ("untagged block", f"```\n{PY}```", PY),
    (
        "tilde fence, indented",
        "1. my code:\n   ~~~python\n   " + PY.replace("\n    ", "\n       "),
        PY,
    ),
    (
        "usage after the solution",
        f"```python\n{PY}```\n```python\npair_sum_indices([1], 2)\n```",
        PY,
    ),
    ("tagged beats untagged", f"```python\n{PY}```\n```\nprint('x')\n```", PY),
    ("output block is not code", "```\n[0, 1]\nsome words here\n```", None),
    ("other language only", f"```bash\npython x.py\n```\n{PY}", None),
    ("empty python block", "```python\n\n```", None),
    ("bare code", PY, PY),
    ("bare code without the entry point", "def helper(x):\n    return x\n", None),
    ("prose", "I would use a hash map from value to index, one pass.", None),
    ("unclosed fence", f"```python\n{PY}", PY),
    (
        "broken code is still returned",
        "```python\ndef pair_sum_indices(:\n```",
        "def pair_sum_indices(:\n",
    ),
    (
        "markdown's indented block inside prose",
        "A dict of seen values.\n\n    def pair_sum_indices(nums, target):\n\n"
        "        return [0, 1]\n\nIt is O(n).",
        "def pair_sum_indices(nums, target):\n\n    return [0, 1]\n",
    ),
    (
        "the last indented block that defines the entry point",
        "First:\n\n    def pair_sum_indices(a, b):\n        return []\n\nFixed:\n\n"
        "    def pair_sum_indices(nums, target):\n        return [0, 1]\n\nUsage:\n\n"
        "    pair_sum_indices([1, 2], 3)\n",
        SOLUTION,
    ),
    ("an indented list is not code", "Steps:\n\n    - sort\n    - scan\n", None),
    ("indented lines with no blank before are not a block", "Say:\n    def f(): pass\n", None),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in EXTRACT])
def test_extract_code(text: str, expected: str | None) -> None:
    assert extract_code(text, entry_point="pair_sum_indices") == expected


def test_extract_code_without_an_entry_point_takes_any_definition() -> None:
    assert extract_code("def helper(x):\n    return x\n") == "def helper(x):\n    return x\n"
    assert extract_code("x = 1") is None
    assert [b.language for b in fenced_blocks("````Python title\nx\n````\n~~~\ny\n~~~")] == [
        "python",
        "",
    ]


def test_extracted_code_runs() -> None:
    spec = coding()
    message = f"My answer:\n\n```python\n{spec.reference_solution}\n```\nIt is O(n)."
    code = extract_code(message, entry_point=spec.entry_point)
    assert code is not None
    report = run_tests(code, spec, list(spec.examples))
    assert report.passed == report.total == 2
