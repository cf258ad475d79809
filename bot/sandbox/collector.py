"""Read back what the harness reports for one process, and turn it into test results."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from dataclasses import replace
from typing import Any

from bot.content.models import CodeTest, CodingSpec
from bot.sandbox.bounds import Probe
from bot.sandbox.bubblewrap import signal_of
from bot.sandbox.harness import same
from bot.sandbox.plan import Run
from bot.sandbox.report import RunReport, Status, TestResult
from bot.sandbox.tolerance import close_mismatch

CHUNK = 1 << 16


class Collector:
    """Reads the harness's events for one process and turns them into results."""

    def __init__(self, run: Run, report: RunReport, start: int) -> None:
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
            chunk = os.read(fd, CHUNK)
            if not chunk:
                break
            self.run.received += len(chunk)
            if self.run.received > self.run.limits.results_bytes:
                return self._flooded()
            buffer += chunk
            while (end := buffer.find(b"\n", scanned)) >= 0:
                follow = self._event(bytes(buffer[:end]))
                del buffer[: end + 1]
                scanned = 0
                if follow is not None:
                    return follow
            scanned = len(buffer)
            if scanned > self.run.limits.result_line_bytes:
                limit = self.run.limits.result_line_bytes // 1024
                return self._tampered(f"a line over the limit of {limit} KB per result")
        proc.wait()
        return self._ended(_returncode(proc.returncode, self.run))

    def _budget(self) -> float:
        limit = self.run.limits.startup_seconds
        if self.running is not None:
            limit = self.run.cases[self.running].time_limit_s
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
            return len(self.run.cases)
        started = status == "started" and index == self.next < len(self.run.cases)
        if started and self.running is None:
            self.running, self.began = index, time.monotonic()
            return None
        if status in ("returned", "error") and index == self.running:
            self._result(index, event)
            self.running, self.next, self.began = None, index + 1, time.monotonic()
            # done: no need to wait for the pipe to close (a child the code left may hold it)
            return self.next if self.next >= len(self.run.cases) else None
        return self._tampered(f"an unexpected event {status!r} for test {index}")

    def _result(self, index: int, event: dict[str, Any]) -> None:
        test, seconds = self.run.cases[index], _seconds(event.get("seconds"))
        if isinstance(test, Probe) and event["status"] == "returned":
            self._verdict(index, test, event.get("value"), seconds)
            return
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
        assert isinstance(test, CodeTest)
        expected = json.loads(json.dumps(test.expected))
        try:
            reason = mismatch(value, expected, self.run.spec)
        except RecursionError:
            reason = ""
        status: Status = "passed" if reason is None else "failed"
        _record(
            self.report,
            self.run,
            index,
            status,
            seconds=seconds,
            actual=_short(value),
            error=reason or None,
        )

    def _verdict(self, index: int, probe: Probe, facts: Any, seconds: float) -> None:
        verdict = probe.judge(facts)
        status: Status = "passed" if verdict.passed else "failed"
        _record(
            self.report, self.run, index, status, seconds=seconds, error=verdict.message or None
        )
        if verdict.growth is not None:
            self.report.growth = verdict.growth

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
            limit = self.run.cases[self.running].time_limit_s
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
            return len(self.run.cases)
        if self.next >= len(self.run.cases):
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
            return len(self.run.cases)
        if self.next < len(self.run.cases) and self.next == self.start:
            _record(self.report, self.run, self.next, "killed", error=_death(returncode)[1])
            return self.next + 1
        return self.next

    def _flooded(self) -> int:
        """The process sent back more than a run may: stop it, and run no further test."""
        limit = self.run.limits.results_bytes // (1024 * 1024)
        reason = (
            f"result limit exceeded: the code's process sent back more than {limit} MB of "
            "results in this run, so it was stopped"
        )
        index = self.running if self.running is not None else self.next
        if index < len(self.run.cases):
            _record(self.report, self.run, index, "killed", error=reason)
        for rest in range(index + 1, len(self.run.cases)):
            _record(self.report, self.run, rest, "killed", error=f"not run: {reason}")
        return len(self.run.cases)

    def _tampered(self, what: str) -> int:
        index = self.running if self.running is not None else self.next
        if index >= len(self.run.cases):
            return index
        reason = f"the code wrote to the test runner's result channel ({what})"
        _record(self.report, self.run, index, "killed", error=reason)
        return index + 1


def mismatch(actual: Any, expected: Any, spec: CodingSpec) -> str | None:
    """None when the returned value is right; else why not ("" when there is nothing to add)."""
    if spec.compare == "allclose":
        return close_mismatch(actual, expected, rtol=spec.rtol, atol=spec.atol)
    return None if same(actual, expected, spec.compare) else ""


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0


def _short(value: Any, limit: int = 300) -> str:
    try:
        text = repr(value)
    except RecursionError:
        text = "(nested too deeply to show)"
    return text if len(text) <= limit else text[:limit] + "..."


def _record(report: RunReport, run: Run, index: int, status: Status, **extra: Any) -> None:
    case = run.cases[index]
    if isinstance(case, Probe):  # a bound's check: always hidden, named by the question
        row = TestResult(index, case.name, case.category, status, hidden=True, check=case.check)
        report.results.append(replace(row, **extra))
        return
    hidden = not any(case is ex or case == ex for ex in run.spec.examples)
    name = case.name or f"test {index + 1}"
    report.results.append(TestResult(index, name, case.category, status, hidden=hidden, **extra))


def not_run(report: RunReport, run: Run, start: int, *, reason: str | None = None) -> None:
    reason = reason or f"not run: the run's time limit of {run.limits.wall_seconds:g} s was used up"
    status: Status = "timeout" if reason.startswith("not run") else "error"
    for index in range(start, len(run.cases)):
        _record(report, run, index, status, error=reason)


def _returncode(returncode: int, run: Run) -> int:
    """How the code's process ended, as subprocess reports it for a process of its own.

    bwrap exits with 128 + N when the code died of signal N. unshare --fork re-raises the
    signal that killed its child, except SIGKILL: it says so."""
    if run.wrapped:
        return signal_of(returncode)
    if returncode == 1 and b"sigprocmask unblock failed" in run.log.read_bytes()[-4096:]:
        return -signal.SIGKILL
    return returncode


def _death(returncode: int) -> tuple[Status, str]:
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
        except ValueError:
            return "killed", f"killed by signal {-returncode}"
        reasons = {
            signal.SIGXCPU: "CPU time limit exceeded",
            signal.SIGXFSZ: "file size limit exceeded",
            signal.SIGSEGV: "the interpreter crashed (segmentation fault)",
            signal.SIGABRT: "the interpreter aborted",
            signal.SIGKILL: "killed (SIGKILL), for example by the CPU, memory or process limits",
        }
        status: Status = "timeout" if sig == signal.SIGXCPU else "killed"
        return status, reasons.get(sig, f"killed by {sig.name}")
    return "killed", f"the process exited with code {returncode}"
