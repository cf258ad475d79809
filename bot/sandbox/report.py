"""What a run returns: a result per test, the report, the limits it ran under."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from bot.errors import BotError

Status = Literal["passed", "failed", "error", "timeout", "killed"]


class SandboxError(BotError):
    """The runner itself could not start the code (never raised for what the code does)."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 10  # per process
    memory_bytes: int = 1024 * 1024 * 1024
    file_bytes: int = 1024 * 1024  # any file the code writes, printed output included
    output_bytes: int = 256 * 1024  # printed output kept per run; the rest is discarded
    result_line_bytes: int = 1024 * 1024  # one result line from the code's process
    results_bytes: int = 8 * 1024 * 1024  # all result lines of a run together
    open_files: int = 64
    processes: int = 16  # processes and threads of the run's own uid
    tmp_bytes: int = 32 * 1024 * 1024  # size of the private /tmp
    wall_seconds: float = 60.0  # the whole run; each test also has its own time_limit_s
    startup_seconds: float = 5.0  # interpreter start plus the code's import-time work


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class, whatever its name
    index: int
    name: str
    category: str
    status: Status
    seconds: float = 0.0
    actual: str | None = None
    error: str | None = None
    hidden: bool = False  # a hidden test (not one of the question's examples)
    check: str | None = None  # a bound's check (scaling, memory, threads, relink, rule), not a test

    def __post_init__(self) -> None:
        # The time comes from the child, which can forge it: NaN, infinite or negative is 0.
        if not (math.isfinite(self.seconds) and self.seconds >= 0):
            self.seconds = 0.0


@dataclass
class Growth:
    """How the code's time grew in the scaling check, as a power of n per call or operation."""

    unit: str  # "call" or "operation"
    asks: str  # what the question asks, e.g. "O(n) time"
    candidate: float  # the candidate's measured degree (the reference's class plus its excess)
    reference: float  # the reference's measured degree
    sizes: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The candidate's growth class: "1", "n", "n^2" or "n^3" (logarithms do not show)."""
        return degree_label(self.candidate)


def degree_label(degree: float) -> str:
    rounded = max(0, min(3, math.floor(degree + 0.5)))
    return {0: "1", 1: "n"}.get(rounded, f"n^{rounded}")


@dataclass
class RunReport:
    results: list[TestResult] = field(default_factory=list)
    error: str | None = None  # the code did not load (syntax error, missing entry point)
    code_found: bool = True  # False: the answer held no code, so nothing ran (error says so)
    output: str = ""  # the first bytes the code printed
    output_truncated: bool = False  # it printed more than Limits.output_bytes
    seconds: float = 0.0
    protections: dict[str, dict[str, Any]] = field(default_factory=dict)
    growth: Growth | None = None  # measured by the scaling check, when the question has one

    @property
    def passed(self) -> int:
        return sum(r.status == "passed" for r in self.results)

    @property
    def total(self) -> int:
        return len(self.results)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(passed=self.passed, total=self.total)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        """The report back from `to_dict` (stored runs); keys it does not know are ignored."""
        known = {f.name for f in fields(TestResult)}
        results = [
            TestResult(**{k: v for k, v in r.items() if k in known}) for r in data["results"]
        ]
        return cls(
            results=results,
            error=data.get("error"),
            code_found=data.get("code_found", True),
            output=data.get("output", ""),
            output_truncated=data.get("output_truncated", False),
            seconds=data.get("seconds", 0.0),
            protections=data.get("protections", {}),
            growth=Growth(**data["growth"]) if data.get("growth") else None,
        )


@dataclass(frozen=True)
class Protection:
    active: bool
    detail: str  # what it does when active; what is missing, and why, when not

    def to_dict(self) -> dict[str, Any]:
        return {"active": self.active, "detail": self.detail}
