"""Run Python code against a coding question's tests in a separate, limited process.

Each run starts `python -I` in a fresh temporary directory with a scrubbed environment and
resource limits. A test that hangs or kills the interpreter is recorded, and the remaining tests
go on in a new process, so one bad case never hides the others.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.content.models import CodeTest, CodingSpec

Status = Literal["passed", "failed", "error", "timeout", "killed"]
HARNESS = Path(__file__).with_name("harness.py")


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 10
    memory_bytes: int = 1024 * 1024 * 1024
    file_bytes: int = 1024 * 1024
    open_files: int = 64
    wall_seconds: float = 20.0


@dataclass
class TestResult:
    index: int
    name: str
    category: str
    status: Status
    seconds: float = 0.0
    actual: str | None = None
    error: str | None = None


@dataclass
class RunReport:
    results: list[TestResult] = field(default_factory=list)
    error: str | None = None  # the code did not load (syntax error, missing entry point)
    output: str = ""  # the first bytes the code printed
    seconds: float = 0.0

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


def run_tests(
    code: str, spec: CodingSpec, tests: list[CodeTest], *, limits: Limits | None = None
) -> RunReport:
    """Run `code` against `tests`; never raises for anything the code does."""
    limits = limits or Limits()
    report = RunReport()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ib-run-") as workdir:
        start = 0
        while start < len(tests) and report.error is None:
            start = _run_from(code, spec, tests, start, limits, Path(workdir), report)
        report.output = _read_head(Path(workdir) / "output.txt")
    report.seconds = round(time.perf_counter() - began, 4)
    return report


def _job(code: str, spec: CodingSpec, tests: list[CodeTest], start: int) -> bytes:
    cases = [t.model_dump(include={"args", "args_expr", "calls", "expected"}) for t in tests]
    job = {
        "code": code,
        "style": spec.style,
        "entry_point": spec.entry_point,
        "compare": spec.compare,
        "tests": cases,
        "start": start,
    }
    return json.dumps(job).encode()


def _limit(limits: Limits) -> None:
    os.setsid()
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _run_from(
    code: str,
    spec: CodingSpec,
    tests: list[CodeTest],
    start: int,
    limits: Limits,
    workdir: Path,
    report: RunReport,
) -> int:
    """Run tests from `start` in one process; return the index to continue from."""
    read_fd, write_fd = os.pipe()
    with open(workdir / "output.txt", "ab") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(HARNESS), str(write_fd)],
            stdin=subprocess.PIPE,
            stdout=sink,
            stderr=sink,
            cwd=workdir,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"},
            pass_fds=(write_fd,),
            preexec_fn=lambda: _limit(limits),
        )
    os.close(write_fd)
    assert proc.stdin is not None
    try:
        proc.stdin.write(_job(code, spec, tests, start))
        proc.stdin.close()
    except BrokenPipeError:
        pass
    with os.fdopen(read_fd, "rb") as pipe:
        return _collect(proc, pipe, tests, start, limits, report)


def _collect(
    proc: subprocess.Popen[bytes],
    pipe: Any,
    tests: list[CodeTest],
    start: int,
    limits: Limits,
    report: RunReport,
) -> int:
    current, began, buffer = -1, time.monotonic(), b""
    deadline = time.monotonic() + limits.wall_seconds
    while True:
        budget = tests[current].time_limit_s if current >= 0 else 5.0
        wait = min(began + budget, deadline) - time.monotonic()
        ready, _, _ = select.select([pipe], [], [], max(wait, 0))
        if not ready:  # the running test (or start-up) is over its time
            _kill(proc)
            index = current if current >= 0 else start
            _record(report, tests, index, "timeout", error="time limit exceeded")
            return index + 1
        chunk = os.read(pipe.fileno(), 65536)
        if not chunk:
            break
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            current, began = _handle(json.loads(line), tests, report, current, began)
            if report.error is not None:
                _kill(proc)
                return len(tests)
    proc.wait()
    if current >= 0 and (not report.results or report.results[-1].index != current):
        status, reason = _death(proc.returncode)
        _record(report, tests, current, status, error=reason)
        return current + 1
    return len(tests)


def _handle(
    event: dict[str, Any], tests: list[CodeTest], report: RunReport, current: int, began: float
) -> tuple[int, float]:
    if event["index"] == -1:
        report.error = event["error"]
        return current, began
    if event["status"] == "started":
        return event["index"], time.monotonic()
    _record(
        report,
        tests,
        event["index"],
        event["status"],
        seconds=event.get("seconds", 0.0),
        actual=event.get("actual"),
        error=event.get("error"),
    )
    return event["index"], began


def _record(
    report: RunReport, tests: list[CodeTest], index: int, status: Status, **extra: Any
) -> None:
    test = tests[index]
    report.results.append(
        TestResult(index, test.name or f"test {index + 1}", test.category, status, **extra)
    )


def _death(returncode: int) -> tuple[Status, str]:
    if returncode < 0:
        sig = signal.Signals(-returncode)
        reasons = {
            signal.SIGXCPU: "CPU time limit exceeded",
            signal.SIGXFSZ: "output limit exceeded",
            signal.SIGSEGV: "the interpreter crashed (segmentation fault)",
        }
        return ("timeout" if sig == signal.SIGXCPU else "killed"), reasons.get(
            sig, f"killed by {sig.name}"
        )
    return "killed", f"the process exited with code {returncode} during the test"


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _read_head(path: Path, limit: int = 4096) -> str:
    try:
        with path.open("rb") as f:
            return f.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""
