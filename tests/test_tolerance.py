"""The allclose compare mode: tolerances, shapes, NaN and infinities, through the runner too."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from bot.content import CodeTest, CodingSpec
from bot.sandbox import run_tests
from bot.sandbox.tolerance import close_mismatch, shape

RTOL, ATOL = 1e-6, 1e-9


def mismatch(got: Any, want: Any) -> str | None:
    return close_mismatch(got, want, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    ("got", "want"),
    [
        (1.0 + 0.9e-6, 1.0),
        (1000.0 * (1 + 0.9e-6), 1000.0),
        (0.5e-9, 0.0),
        ([[1.0, 2.0], [3.0, 4.0 + 3e-6]], [[1.0, 2.0], [3.0, 4.0]]),
        ([1, 2, 3], [1.0, 2.0, 3.0]),
        (["nan", "inf", "-inf"], [math.nan, math.inf, -math.inf]),
        ([[0.25, None], {"loss": 2.0}], [[0.25, None], {"loss": 2.0 + 1e-7}]),
        ([], []),
    ],
)
def test_within_tolerance(got: Any, want: Any) -> None:
    assert mismatch(got, want) is None


@pytest.mark.parametrize(
    ("got", "want", "message"),
    [
        (1.0 + 2e-6, 1.0, "got 1.000002, expected 1.0 (rtol 1e-06, atol 1e-09)"),
        (2e-9, 0.0, "got 2e-09, expected 0.0"),
        ([[1.0, 2.0], [3.0, 4.1]], [[1.0, 2.0], [3.0, 4.0]], "at [1][1]: got 4.1, expected 4.0"),
        (
            [1.5, 2.5, 3.5],
            [1.0, 2.0, 3.0],
            "at [0]: got 1.5, expected 1.0 (rtol 1e-06, atol 1e-09); 2 more differences",
        ),
        ("nan", 1.0, "got nan, expected 1.0"),
        (1.0, math.nan, "got 1.0, expected nan"),
        ("inf", math.inf * -1, "got inf, expected -inf"),
        (1e308, math.inf, "got 1e+308, expected inf"),
        (True, 1.0, "got True, expected a number (1.0)"),
        ("1.0", 1.0, "got '1.0', expected a number (1.0)"),
        ([[0, 1.0], {"loss": 3.0}], [[0, 1.0], {"loss": 2.0}], "at [1]['loss']: got 3.0"),
        ([[1, 2], 5.0], [[1, 2, 3], 5.0], "at [0]: shape (2,), expected shape (3,)"),
    ],
)
def test_outside_tolerance_says_where(got: Any, want: Any, message: str) -> None:
    found = mismatch(got, want)
    assert found is not None and found.startswith(message), found


@pytest.mark.parametrize(
    ("got", "message"),
    [
        ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "shape (3, 2), expected shape (2, 3)"),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "shape (6,), expected shape (2, 3)"),
        ([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]], "shape (1, 2, 3), expected shape (2, 3)"),
        ([[1.0, 2.0, 3.0], [4.0, 5.0]], "a ragged or non-numeric value, expected shape (2, 3)"),
        (7.0, "a number, expected shape (2, 3)"),
    ],
)
def test_a_shape_mismatch_is_one_clear_message(got: Any, message: str) -> None:
    assert mismatch(got, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]) == message


def test_shape() -> None:
    assert shape(3) == ()
    assert shape([]) == (0,)
    assert shape([[1, 2], [3, 4], [5, 6]]) == (3, 2)
    assert shape([[1, 2], [3]]) is None
    assert shape([["a"]]) is None


def spec(**options: Any) -> CodingSpec:
    case = CodeTest(args=[1.0], expected=[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    return CodingSpec.model_validate(
        {
            "entry_point": "f",
            "signature": "def f(scale):",
            "examples": [case, case],
            "tests": [case] * 8,
            "reference_solution": "def f(scale):\n    return [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]\n",
            "complexity": "O(1)",
            **options,
        }
    )


@pytest.mark.parametrize(
    ("returned", "status", "error"),
    [
        ("np.arange(1.0, 7.0).reshape(2, 3) * (1 + 5e-5)", "passed", None),
        ("np.arange(1.0, 7.0).reshape(2, 3) * (1 + 2e-4)", "failed", "at [0][0]: got 1.0002"),
        ("np.arange(1.0, 7.0).reshape(3, 2)", "failed", "shape (3, 2), expected shape (2, 3)"),
        ("np.full((2, 3), np.nan)", "failed", "at [0][0]: got nan, expected 1.0"),
    ],
)
def test_the_runner_compares_numpy_results_within_the_question_s_tolerance(
    returned: str, status: str, error: str | None
) -> None:
    coding = spec(compare="allclose", rtol=1e-4)
    code = f"import numpy as np\n\ndef f(scale):\n    return {returned}\n"
    report = run_tests(code, coding, list(coding.examples[:1]))
    result = report.results[0]
    assert (report.error, result.status) == (None, status)
    assert result.error == error or (error is not None and (result.error or "").startswith(error))


def test_exact_mode_still_demands_equality() -> None:
    coding = spec()
    code = "import numpy as np\n\ndef f(scale):\n    return np.arange(1, 7).reshape(2, 3) + 1e-7"
    assert run_tests(code, coding, list(coding.examples[:1])).results[0].status == "failed"


def test_tolerances_need_the_allclose_mode() -> None:
    with pytest.raises(ValidationError, match="rtol apply only to compare: allclose"):
        spec(rtol=1e-3)
    assert spec(compare="allclose", atol=1e-3).atol == 1e-3
