"""One run, prepared before its first process starts.

A run holds its cases (the tests, or the probes of a question's bounds), the limits, the command
line, the child's setup, the working directory, what the job tells the harness beyond the cases,
and the files its printed output and its log go to.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.content.models import CodeTest, CodingSpec
from bot.sandbox.bounds import Probe
from bot.sandbox.child import child_env, child_setup, dropping, hidden_paths
from bot.sandbox.isolation import Isolation, command
from bot.sandbox.report import Limits

HARNESS = Path(__file__).resolve().with_name("harness.py")
# Child-side modules the harness loads from the job: what the code is given, and the probes.
CHILD_MODULES = {name: HARNESS.with_name(f"{name}.py") for name in ("given", "probes")}
Case = CodeTest | Probe


@dataclass
class Run:
    spec: CodingSpec
    cases: Sequence[Case]
    limits: Limits
    argv: Callable[[int], list[str]]
    setup: Callable[[], None]
    home: str
    env: dict[str, str]
    sink: Path
    log: Path  # stderr of unshare and of the interpreter before the harness takes over
    uid: int | None
    deadline: float
    job: dict[str, Any] = field(default_factory=dict)  # for the harness, beside the cases


def prepare(
    spec: CodingSpec,
    cases: Sequence[Case],
    limits: Limits,
    iso: Isolation,
    uid: int | None,
    workdir: Path,
) -> Run:
    workdir.mkdir(exist_ok=True)
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

    return Run(
        spec=spec,
        cases=cases,
        limits=limits,
        argv=argv,
        setup=setup,
        home=str(home),
        env=child_env("/tmp" if iso.filesystem else str(home)),
        sink=sink,
        log=workdir / "runner.log",
        uid=uid,
        deadline=time.monotonic() + limits.wall_seconds,
        job=_job_extra(spec, probing=any(isinstance(case, Probe) for case in cases)),
    )


def _job_extra(spec: CodingSpec, *, probing: bool) -> dict[str, Any]:
    """What the harness needs beyond the cases: the child-side modules, the I/O of linked-list
    and in-place questions, and for probes the reference solution (never an expected value)."""
    names = ["given", "probes"] if probing else ["given"]
    if not probing and spec.linked is None and spec.observe_arg is None:
        return {}
    extra: dict[str, Any] = {"modules": {name: _child_source(name) for name in names}}
    extra["linked"] = spec.linked.model_dump() if spec.linked else None
    extra["observe_arg"] = spec.observe_arg
    if probing:
        extra["reference"] = spec.reference_solution
    return extra


@functools.cache
def _harness_source() -> str:
    return HARNESS.read_text(encoding="utf-8")


@functools.cache
def _child_source(name: str) -> str:
    return CHILD_MODULES[name].read_text(encoding="utf-8")
