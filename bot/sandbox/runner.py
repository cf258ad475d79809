"""Run the candidate's code test by test in child processes, and read back what happened."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings, get_settings
from bot.content.models import CodeTest, CodingSpec
from bot.sandbox.harness import same
from bot.sandbox.isolation import (
    POOL,
    Isolation,
    child_env,
    child_setup,
    command,
    dropping,
    hidden_paths,
    kill_uid,
    machine,
    protections,
)
from bot.sandbox.report import Limits, RunReport, SandboxError, Status, TestResult

HARNESS = Path(__file__).resolve().with_name("harness.py")
LINE_LIMIT = 16 * 1024 * 1024  # one result line from the harness (values are capped at 8 MB)


@dataclass
class _Run:
    spec: CodingSpec
    tests: list[CodeTest]
    limits: Limits
    argv: Callable[[int], list[str]]
    setup: Callable[[], None]
    home: str
    env: dict[str, str]
    sink: Path
    log: Path  # stderr of unshare and of the interpreter before the harness takes over
    uid: int | None
    deadline: float


def run_tests(
    code: str,
    spec: CodingSpec,
    tests: list[CodeTest],
    *,
    limits: Limits | None = None,
    isolation: Isolation | None = None,
) -> RunReport:
    """Run `code` against `tests`; never raises for anything the code does.

    `isolation` is what the machine supports, probed once per process when not given."""
    limits, iso = limits or Limits(), isolation or machine()
    shown = protections(limits, iso)
    report = RunReport(protections={k: p.to_dict() for k, p in shown.items()})
    began = time.perf_counter()
    uid = POOL.acquire() if iso.user else None
    try:
        with tempfile.TemporaryDirectory(prefix="ib-run-") as workdir:
            run = _prepare(spec, tests, limits, iso, uid, Path(workdir))
            start = 0
            while start < len(tests) and report.error is None:
                if time.monotonic() >= run.deadline:
                    _not_run(report, run, start)
                    break
                start = _run_from(code, run, start, report)
            size = run.sink.stat().st_size
            report.output = _read_head(run.sink)
            report.output_truncated = size >= limits.output_bytes
    finally:
        if uid is not None:
            POOL.release(uid)
    report.seconds = round(time.perf_counter() - began, 4)
    return report


def _prepare(
    spec: CodingSpec,
    tests: list[CodeTest],
    limits: Limits,
    iso: Isolation,
    uid: int | None,
    workdir: Path,
) -> _Run:
    home = workdir / "home"
    home.mkdir()
    sink = workdir / "output.txt"
    sink.touch()
    if uid is not None and not iso.filesystem:  # the code works in `home`, as its own uid
        workdir.chmod(0o711)
        os.chown(home, uid, uid)
    interpreter = iso.interpreter if uid is not None else sys.executable
    hide = hidden_paths(interpreter) if iso.filesystem else ()
    setup = child_setup(limits, private_tmp=iso.filesystem, hide=hide, owner=uid or 0)
    if uid is not None and iso.unshare is None:
        setup = dropping(setup, uid)
    source = _harness_source()

    def argv(fd: int) -> list[str]:
        return command(iso, uid, [interpreter, "-I", "-S", "-c", source, str(fd)])

    return _Run(
        spec=spec,
        tests=tests,
        limits=limits,
        argv=argv,
        setup=setup,
        home=str(home),
        env=child_env("/tmp" if iso.filesystem else str(home)),
        sink=sink,
        log=workdir / "runner.log",
        uid=uid,
        deadline=time.monotonic() + limits.wall_seconds,
    )


@functools.cache
def _harness_source() -> str:
    return HARNESS.read_text(encoding="utf-8")


def _job(code: str, run: _Run, start: int) -> bytes:
    cases = [t.model_dump(include={"args", "args_expr", "calls"}) for t in run.tests]
    job = {
        "code": code,
        "style": run.spec.style,
        "entry_point": run.spec.entry_point,
        "tests": cases,  # inputs only: expected values stay in this process
        "start": start,
        "output_keep": run.limits.output_bytes - run.sink.stat().st_size,
        "output_limit": run.limits.output_bytes,
        "file_bytes": run.limits.file_bytes,
        "processes": run.limits.processes,
    }
    return json.dumps(job).encode()


def _run_from(code: str, run: _Run, start: int, report: RunReport) -> int:
    """Run tests from `start` in one process; return the index to continue from."""
    read_fd, write_fd = os.pipe()
    try:
        with open(run.sink, "ab") as sink, open(run.log, "ab") as log:
            proc = subprocess.Popen(
                run.argv(write_fd),
                stdin=subprocess.PIPE,
                stdout=sink,
                stderr=log,
                cwd=run.home,
                env=run.env,
                pass_fds=(write_fd,),
                preexec_fn=run.setup,
            )
    except (OSError, subprocess.SubprocessError) as error:
        os.close(read_fd)
        raise SandboxError(f"could not start the code runner: {error}") from error
    finally:
        os.close(write_fd)
    assert proc.stdin is not None
    try:
        proc.stdin.write(_job(code, run, start))
        proc.stdin.close()
    except BrokenPipeError:
        pass
    collector = _Collector(run, report, start)
    with os.fdopen(read_fd, "rb") as pipe:
        try:
            return collector.collect(proc, pipe.fileno())
        finally:
            _stop(proc, run.uid, grace=0.5 if collector.next >= len(run.tests) else 0.0)


class _Collector:
    """Reads the harness's events for one process and turns them into results."""

    def __init__(self, run: _Run, report: RunReport, start: int) -> None:
        self.run, self.report, self.start = run, report, start
        self.running: int | None = None  # the test being run now
        self.next = start  # the next test expected to start
        self.began = time.monotonic()
        self.heard = False  # any event at all from this process

    def collect(self, proc: subprocess.Popen[bytes], fd: int) -> int:
        buffer, scanned = bytearray(), 0
        while True:
            budget = self._budget()
            ready, _, _ = select.select([fd], [], [], max(budget - time.monotonic(), 0))
            if not ready:
                return self._overtime()
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            buffer += chunk
            while (end := buffer.find(b"\n", scanned)) >= 0:
                follow = self._event(bytes(buffer[:end]))
                del buffer[: end + 1]
                scanned = 0
                if follow is not None:
                    return follow
            scanned = len(buffer)
            if scanned > LINE_LIMIT:
                return self._tampered("an oversized line")
        proc.wait()
        return self._ended(_returncode(proc.returncode, self.run.log))

    def _budget(self) -> float:
        limit = self.run.limits.startup_seconds
        if self.running is not None:
            limit = self.run.tests[self.running].time_limit_s
        return min(self.began + limit, self.run.deadline)

    def _event(self, line: bytes) -> int | None:
        """Handle one event; return where to continue when this process is done with."""
        try:
            event = json.loads(line)
        except RecursionError:  # only a returned value can be nested this deep
            return self._unreadable()
        except ValueError:
            return self._tampered("a line that is not JSON")
        if not isinstance(event, dict) or not isinstance(event.get("index"), int):
            return self._tampered("a malformed event")
        index, status = event["index"], event.get("status")
        self.heard = True
        if index == -1 and status == "error" and self.running is None and self.next == self.start:
            self.report.error = str(event.get("error"))
            return len(self.run.tests)
        started = status == "started" and index == self.next < len(self.run.tests)
        if started and self.running is None:
            self.running, self.began = index, time.monotonic()
            return None
        if status in ("returned", "error") and index == self.running:
            self._result(index, event)
            self.running, self.next, self.began = None, index + 1, time.monotonic()
            # done: no need to wait for the pipe to close (a child the code left may hold it)
            return self.next if self.next >= len(self.run.tests) else None
        return self._tampered(f"an unexpected event {status!r} for test {index}")

    def _result(self, index: int, event: dict[str, Any]) -> None:
        test, seconds = self.run.tests[index], _seconds(event.get("seconds"))
        if event["status"] == "error":
            _record(
                self.report,
                self.run,
                index,
                "error",
                seconds=seconds,
                error=str(event.get("error")),
            )
            return
        value = event.get("value")
        expected = json.loads(json.dumps(test.expected))
        try:
            ok = same(value, expected, self.run.spec.compare)
        except RecursionError:
            ok = False
        status: Status = "passed" if ok else "failed"
        _record(self.report, self.run, index, status, seconds=seconds, actual=_short(value))

    def _unreadable(self) -> int | None:
        index = self.running
        if index is None:
            return self._tampered("a line nested too deeply")
        error = "the return value is nested too deeply to compare"
        _record(self.report, self.run, index, "error", error=error)
        self.running, self.next, self.began = None, index + 1, time.monotonic()
        return None

    def _overtime(self) -> int:
        total = f"the run's time limit of {self.run.limits.wall_seconds:g} s was used up"
        over_run = time.monotonic() >= self.run.deadline
        if self.running is not None:
            limit = self.run.tests[self.running].time_limit_s
            reason = total if over_run else f"time limit exceeded ({limit:g} s)"
            _record(self.report, self.run, self.running, "timeout", error=reason)
            return self.running + 1
        if over_run:
            return self.next
        if not self.heard:
            self.report.error = (
                f"the code did not finish loading within {self.run.limits.startup_seconds:g} s "
                "(is something running at import time?)"
            )
            return len(self.run.tests)
        if self.next >= len(self.run.tests):
            return self.next
        _record(self.report, self.run, self.next, "killed", error="the test runner stalled")
        return self.next + 1

    def _ended(self, returncode: int) -> int:
        if self.running is not None:
            status, reason = _death(returncode)
            _record(self.report, self.run, self.running, status, error=reason)
            return self.running + 1
        if not self.heard:
            self.report.error = (
                f"the code stopped the interpreter while loading: {_death(returncode)[1]}"
            )
            return len(self.run.tests)
        if self.next < len(self.run.tests) and self.next == self.start:
            _record(self.report, self.run, self.next, "killed", error=_death(returncode)[1])
            return self.next + 1
        return self.next

    def _tampered(self, what: str) -> int:
        index = self.running if self.running is not None else self.next
        if index >= len(self.run.tests):
            return index
        reason = f"the code wrote to the test runner's result channel ({what})"
        _record(self.report, self.run, index, "killed", error=reason)
        return index + 1


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0


def _short(value: Any, limit: int = 300) -> str:
    try:
        text = repr(value)
    except RecursionError:
        text = "(nested too deeply to show)"
    return text if len(text) <= limit else text[:limit] + "..."


def _record(report: RunReport, run: _Run, index: int, status: Status, **extra: Any) -> None:
    test = run.tests[index]
    hidden = not any(test is ex or test == ex for ex in run.spec.examples)
    name = test.name or f"test {index + 1}"
    report.results.append(TestResult(index, name, test.category, status, hidden=hidden, **extra))


def _not_run(report: RunReport, run: _Run, start: int) -> None:
    reason = f"not run: the run's time limit of {run.limits.wall_seconds:g} s was used up"
    for index in range(start, len(run.tests)):
        _record(report, run, index, "timeout", error=reason)


def _returncode(returncode: int, log: Path) -> int:
    """unshare --fork re-raises the signal that killed its child, except SIGKILL: it says so."""
    if returncode == 1 and b"sigprocmask unblock failed" in log.read_bytes()[-4096:]:
        return -signal.SIGKILL
    return returncode


def _death(returncode: int) -> tuple[Status, str]:
    if returncode < 0:
        sig = signal.Signals(-returncode)
        reasons = {
            signal.SIGXCPU: "CPU time limit exceeded",
            signal.SIGXFSZ: "file size limit exceeded",
            signal.SIGSEGV: "the interpreter crashed (segmentation fault)",
            signal.SIGABRT: "the interpreter aborted",
            signal.SIGKILL: "killed (SIGKILL), for example by the memory or process limits",
        }
        status: Status = "timeout" if sig == signal.SIGXCPU else "killed"
        return status, reasons.get(sig, f"killed by {sig.name}")
    return "killed", f"the process exited with code {returncode}"


def _stop(proc: subprocess.Popen[bytes], uid: int | None, *, grace: float) -> None:
    """Kill the test process and everything it started, and reap it.

    After the last test the harness exits by itself; `grace` gives it the time to."""
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    if uid is not None:  # the harness first: in a PID namespace, its death takes the rest along
        kill_uid(uid)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _read_head(path: Path, limit: int = 4096) -> str:
    try:
        with path.open("rb") as f:
            return f.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""


# --- the concurrency cap ------------------------------------------------------------------------


def runner_concurrency(settings: Settings | None = None) -> int:
    """How many runs at once (`Settings.runner_concurrency`; the current settings if not given)."""
    return (settings or get_settings()).runner_concurrency


@functools.cache
def _slots(size: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(size)


def run_tests_capped(
    code: str, spec: CodingSpec, tests: list[CodeTest], *, limits: Limits | None = None
) -> RunReport:
    """`run_tests` in one of the process's `runner_concurrency()` slots, waiting for a free one.

    Every caller in the process shares the slots: the app's worker threads and async callers
    alike, so the cap counts the processes that really run.
    """
    with _slots(runner_concurrency()):
        return run_tests(code, spec, tests, limits=limits)


async def run_tests_async(
    code: str, spec: CodingSpec, tests: list[CodeTest], *, limits: Limits | None = None
) -> RunReport:
    """`run_tests_capped` in a worker thread, so the event loop keeps serving meanwhile.

    A cancelled caller stops waiting, but the run finishes in its thread and only then frees
    its slot.
    """
    work = asyncio.get_running_loop().run_in_executor(
        None, functools.partial(run_tests_capped, code, spec, tests, limits=limits)
    )
    return await asyncio.shield(work)
