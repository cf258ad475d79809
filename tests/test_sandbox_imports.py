"""In the sandbox the candidate's code may import the standard library and numpy, nothing else."""

from __future__ import annotations

import importlib.util

import pytest

from bot.content import CodeTest, CodingSpec
from bot.sandbox import run_tests
from bot.sandbox.imports import ImportGuard, refusal
from bot.sandbox.packages import ALLOWED_PACKAGES

RULE = "only the standard library and numpy can be imported here"


def spec(compare: str = "exact") -> CodingSpec:
    case = CodeTest(args=[2], expected=[0, 2, 4])
    return CodingSpec.model_validate(
        {
            "entry_point": "f",
            "signature": "def f(x):",
            "compare": compare,
            "examples": [case, case],
            "tests": [case] * 8,
            "reference_solution": "def f(x):\n    return [0, x, 2 * x]\n",
            "complexity": "O(1)",
        }
    )


def one(code: str, expected: object, compare: str = "exact") -> tuple[str | None, str, str | None]:
    """(load error, status, error) of one test that calls f(2)."""
    report = run_tests(code, spec(compare), [CodeTest(args=[2], expected=expected)])
    result = report.results[0] if report.results else None
    return report.error, result.status if result else "", result.error if result else None


def test_the_rule_names_the_allowed_packages() -> None:
    assert ALLOWED_PACKAGES == ("numpy",)
    assert refusal(ALLOWED_PACKAGES) == RULE


def test_numpy_imports_and_its_arrays_come_back_as_lists() -> None:
    code = "import numpy as np\n\ndef f(x):\n    return np.arange(3) * x\n"
    assert one(code, [0, 2, 4]) == (None, "passed", None)


def test_numpy_submodules_and_scalars_work() -> None:
    code = (
        "import numpy as np\nimport numpy.linalg\nimport numpy.random\n\n"
        "def f(x):\n    rng = np.random.default_rng(0)\n"
        "    return [np.linalg.norm([3.0, 4.0]) * x, np.int64(x), np.float32(0.5), "
        "rng.integers(0, 1, size=2)]\n"
    )
    assert one(code, [10.0, 2, 0.5, [0, 0]]) == (None, "passed", None)


def test_math_libraries_run_one_thread() -> None:
    code = "import os\n\ndef f(x):\n    return os.environ.get('OPENBLAS_NUM_THREADS')\n"
    assert one(code, "1")[1] == "passed"


@pytest.mark.parametrize("module", ["yaml", "chromadb", "bot"])
def test_other_installed_packages_are_refused_at_load(module: str) -> None:
    assert importlib.util.find_spec(module) is not None, f"{module} is not installed here"
    error, _, _ = one(f"import {module}\n\ndef f(x):\n    return x\n", 2)
    assert error is not None
    assert f"ModuleNotFoundError: No module named '{module}': {RULE}" in error


def test_a_refused_import_inside_a_test_is_that_test_s_error() -> None:
    code = "def f(x):\n    import yaml.constructor\n    return x\n"
    error, status, message = one(code, 2)
    assert (error, status) == (None, "error")
    assert message == f"ModuleNotFoundError: No module named 'yaml': {RULE}"


def test_a_missing_import_can_still_be_caught() -> None:
    code = "try:\n    import chromadb\nexcept ImportError:\n    chromadb = None\n\n"
    code += "def f(x):\n    return chromadb is None\n"
    assert one(code, True)[1] == "passed"


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("json", True),
        ("collections.abc", True),
        ("_thread", True),
        ("numpy", True),
        ("numpy.linalg", True),
        ("numpyx", False),
        ("yaml", False),
        ("chromadb.api", False),
        ("pydantic", False),
    ],
)
def test_the_guard_permits_the_standard_library_and_allowed_packages(
    name: str, allowed: bool
) -> None:
    guard = ImportGuard(ALLOWED_PACKAGES)
    assert guard.permits(name) is allowed
    if allowed:
        assert guard.find_spec(name, None) is None  # the ordinary finders take over
    else:
        with pytest.raises(ModuleNotFoundError, match=RULE):
            guard.find_spec(name, None)
