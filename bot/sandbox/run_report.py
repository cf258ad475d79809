"""A test run as Markdown for the chat, and the categories of the tests that failed.

Examples are shown in full (input, expected, actual). Hidden tests show only their status, name,
category and runtime: never their input, the expected value, what the code returned or printed, or
an exception message (which often quotes the input); only the exception's type.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.content.models import CodeTest
from bot.sandbox import RunReport, TestResult

ICON = {"passed": "✅", "failed": "❌", "error": "⚠️", "timeout": "⏱️", "killed": "💥"}
WORD = {
    "passed": "passed",
    "failed": "wrong answer",
    "error": "error",
    "timeout": "timed out",
    "killed": "crashed",
}
SUFFIX = {"timeout": " (timed out)", "killed": " (crashed)", "error": " (error)"}
# Messages written by the runner itself: they never quote the test's input.
OWN_MESSAGES = ("output limit exceeded", "file size limit exceeded", "MemoryError: the memory")
CELL = 80


def render_run(report: RunReport, tests: Sequence[CodeTest], *, hidden: bool) -> str:
    """Markdown for the chat; with `hidden`, nothing that would reveal a test's data."""
    if report.error is not None:
        return _load_error(report.error)
    kind = "hidden tests" if hidden else "tests"
    if any(r.check is not None for r in report.results):
        kind += " and bound checks"
    icon = "✅" if report.passed == report.total and report.total else "❌"
    lines = [
        f"{icon} **{report.passed}/{report.total} {kind} passed** in {report.seconds:.2f} s",
        "",
    ]
    if hidden:
        lines += ["| | Test | Category | Result | ms |", "|---|---|---|---|---:|"]
        lines += [_hidden_row(r) for r in report.results]
        failing = failing_categories(report)
        if failing:
            lines += ["", "Failing: " + ", ".join(failing)]
        if report.growth is not None:
            g = report.growth
            lines += ["", f"Measured growth: time per {g.unit} ~{g.label} ({g.asks} asked)."]
    else:
        lines += ["| | Test | Input | Expected | Got | ms |", "|---|---|---|---|---|---:|"]
        lines += [_shown_row(r, _test(tests, r.index)) for r in report.results]
        lines += _output(report)
    return "\n".join(lines)


def failing_categories(report: RunReport, *, hidden_only: bool = False) -> list[str]:
    """Categories of the tests that did not pass, in order, each once; how they failed when it
    was not a wrong answer, e.g. ["empty input", "large input: time limit (timed out)"]."""
    seen: dict[str, None] = {}
    for r in report.results:
        if r.status != "passed" and (r.hidden or not hidden_only):
            seen[r.category + SUFFIX.get(r.status, "")] = None
    return list(seen)


def _hidden_row(r: TestResult) -> str:
    reason = _hidden_reason(r)
    word = "bound broken" if r.check is not None and r.status == "failed" else WORD[r.status]
    result = word + (f": {reason}" if reason else "")
    return (
        f"| {ICON[r.status]} | {_cell(r.name)} | {_cell(r.category)} | {_cell(result)} | {_ms(r)} |"
    )


def _hidden_reason(r: TestResult) -> str:
    if r.check is not None and r.status == "failed" and r.error:
        return r.error  # a bound's own message: sizes, times and rules, never a test's data
    if r.status in ("passed", "failed") or not r.error:
        return ""
    if r.status != "error" or r.error.startswith(OWN_MESSAGES):
        return r.error  # time limits, crashes and limits: the runner's own words
    name = r.error.split(":", 1)[0]
    return name if re.fullmatch(r"[A-Za-z_][\w.]*", name) else "exception"


def _shown_row(r: TestResult, test: CodeTest | None) -> str:
    given = _input(test) if test else "?"
    expected = repr(test.expected) if test else "?"
    got = r.error if r.status not in ("passed", "failed") and r.error else r.actual or ""
    if r.status == "failed" and r.error:  # what differs (a shape, the first number off) first
        got = f"{r.error}; got {got}"
    name = f"{_cell(r.name)} ({_cell(WORD[r.status])})"
    cells = [_code(given), _code(expected), _code(got) if got else ""]
    return f"| {ICON[r.status]} | {name} | " + " | ".join(cells) + f" | {_ms(r)} |"


def _input(test: CodeTest) -> str:
    if test.args_expr:
        return f"args = {test.args_expr}"
    args = ", ".join(repr(a) for a in test.args or [])
    if test.calls is None:
        return f"({args})"
    calls = "; ".join(f"{name}({', '.join(repr(a) for a in margs)})" for name, margs in test.calls)
    return f"new({args}); {calls}"


def _test(tests: Sequence[CodeTest], index: int) -> CodeTest | None:
    return tests[index] if 0 <= index < len(tests) else None


def _ms(r: TestResult) -> str:
    return f"{r.seconds * 1000:.1f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    text = text if len(text) <= CELL else text[: CELL - 1] + "…"
    text = _cell(text)
    ticks = "``" if "`" in text else "`"
    return f"{ticks} {text} {ticks}" if ticks == "``" else f"`{text}`"


def _fenced(text: str) -> list[str]:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", text.rstrip("\n"), fence]


def _load_error(error: str) -> str:
    lines = ["❌ **The code did not load**, so no test ran:", ""]
    return "\n".join(lines + _fenced(error))


def _output(report: RunReport) -> list[str]:
    if not report.output:
        return []
    size = len(report.output.encode())
    title = "Printed output:"
    if report.output_truncated:
        title = f"Printed output (the first {size} bytes; it printed more than the limit):"
    elif size >= 4096:
        title = f"Printed output (the first {size} bytes):"
    return ["", title, "", *_fenced(report.output)]
