"""Run the candidate's code test by test in child processes, one process at a time.

`bot.sandbox.plan` prepares a run, `bot.sandbox.collector` reads back what each process reports,
and `bot.sandbox.concurrency` caps how many runs go on at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

from bot.content.models import CodeTest, CodingSpec
from bot.sandbox.bounds import Probe, doubtful, probes, rule_results, scaling_probes
from bot.sandbox.collector import Collector, not_run
from bot.sandbox.isolation import Isolation, machine
from bot.sandbox.packages import import_setup
from bot.sandbox.plan import Run, prepare
from bot.sandbox.report import Limits, RunReport, SandboxError
from bot.sandbox.safeguards import protections
from bot.sandbox.uid_pool import POOL, kill_uid

VALUE_MARGIN = 1024  # room in a result line for what the harness writes besides the value


def run_tests(
    code: str,
    spec: CodingSpec,
    tests: list[CodeTest],
    *,
    limits: Limits | None = None,
    isolation: Isolation | None = None,
    bounds: bool = False,
) -> RunReport:
    """Run `code` against `tests`, and with `bounds` check the question's bounds after them
    (bot/sandbox/bounds.py); never raises for anything the code does.

    `isolation` is what the machine supports, probed once per process when not given."""
    limits, iso = limits or Limits(), isolation or machine()
    shown = protections(limits, iso)
    report = RunReport(protections={k: p.to_dict() for k, p in shown.items()})
    began = time.perf_counter()
    uid = POOL.acquire() if iso.user else None
    try:
        with tempfile.TemporaryDirectory(prefix="ib-run-") as workdir:
            run = prepare(spec, tests, limits, iso, uid, Path(workdir))
            _run_all(code, run, report)
            size = run.sink.stat().st_size
            report.output = _read_head(run.sink)
            report.output_truncated = size >= limits.output_bytes
            if bounds and report.error is None:
                checks = prepare(spec, probes(spec), limits, iso, uid, Path(workdir) / "bounds")
                _check_bounds(code, checks, report)
                if doubtful(spec, report.growth):
                    again = Path(workdir) / "bounds-again"
                    measure_again(
                        code, prepare(spec, scaling_probes(spec), limits, iso, uid, again), report
                    )
    finally:
        if uid is not None:
            POOL.release(uid)
    report.seconds = round(time.perf_counter() - began, 4)
    return report


def _run_all(code: str, run: Run, report: RunReport) -> None:
    start = 0
    while start < len(run.cases) and report.error is None:
        if time.monotonic() >= run.deadline:
            not_run(report, run, start)
            break
        start = _run_from(code, run, start, report)


def _check_bounds(code: str, run: Run, report: RunReport) -> None:
    """The structure rules, then the probes in processes of their own (their own CPU limit)."""
    first = len(report.results)
    report.results += rule_results(code, run.spec, first)
    measured = RunReport()
    _run_all(code, run, measured)
    if measured.error is not None:  # the code loaded for the tests: this is the probes' failure
        not_run(measured, run, 0, reason=f"the check could not start: {measured.error}")
    base = len(report.results)
    for offset, result in enumerate(measured.results):
        result.index = base + offset
    report.results += measured.results
    report.growth = measured.growth


def measure_again(code: str, run: Run, report: RunReport) -> None:
    """A scaling check passed close to its limit must pass a second measurement too: one on a
    busy machine can understate a growth (quadratic code passed 5 times in 6 suite runs of ~200
    wrong solutions with one measurement). A second fail replaces the first pass."""
    second = RunReport()
    _run_all(code, run, second)
    failed = [r for r in second.results if r.check == "scaling" and r.status == "failed"]
    if second.error is not None or not failed:
        return
    for n, result in enumerate(report.results):
        if result.check == "scaling":
            report.results[n] = replace(failed[0], index=result.index)
    report.growth = second.growth


def _job(code: str, run: Run, start: int) -> bytes:
    cases = [
        case.payload
        if isinstance(case, Probe)
        else case.model_dump(include={"args", "args_expr", "calls"})
        for case in run.cases
    ]
    job = {
        **run.job,
        "code": code,
        "style": run.spec.style,
        "entry_point": run.spec.entry_point,
        "tests": cases,  # inputs only: expected values stay in this process
        "start": start,
        "output_keep": run.limits.output_bytes - run.sink.stat().st_size,
        "output_limit": run.limits.output_bytes,
        "file_bytes": run.limits.file_bytes,
        "processes": run.limits.processes,
        "imports": import_setup(),
        "processes_inside": run.processes_inside,
        "paths": run.import_paths,
        "value_bytes": run.limits.result_line_bytes - VALUE_MARGIN,
    }
    return json.dumps(job).encode()


def _run_from(code: str, run: Run, start: int, report: RunReport) -> int:
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
    collector = Collector(run, report, start)
    with os.fdopen(read_fd, "rb") as pipe:
        try:
            return collector.collect(proc, pipe.fileno())
        finally:
            _stop(proc, run.uid, grace=0.5 if collector.next >= len(run.cases) else 0.0)


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
