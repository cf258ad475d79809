"""One run, prepared before its first process starts.

A run holds its cases (the tests, or the probes of a question's bounds), the limits, the command
line, the child's setup, the working directory, what the job tells the harness beyond the cases,
and the files its printed output and its log go to. Under bubblewrap the allowed packages are
bound at a fixed path; without it their site-packages directory goes on the child's sys.path
(every package there is then importable: only bubblewrap's allow-list narrows that down).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from bot.content.models import CodeTest, CodingSpec
from bot.sandbox.allow_list import PACKAGES_MOUNT
from bot.sandbox.bounds import Probe
from bot.sandbox.bubblewrap import Bubblewrap
from bot.sandbox.child import child_env, child_setup, dropping, hidden_paths
from bot.sandbox.isolation import Isolation, command
from bot.sandbox.packages import search_roots
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
    log: Path  # stderr of bwrap or unshare, and of the interpreter before the harness takes over
    uid: int | None
    deadline: float
    import_paths: list[str]  # put on the child's sys.path: where the allowed packages are
    processes_inside: bool  # the harness sets the process limit itself (see harness._confine)
    wrapped: bool  # runs inside bubblewrap, which reports a death by signal N as exit 128 + N
    received: int = 0  # bytes of results read back so far, over every process of the run
    job: dict[str, Any] = field(default_factory=dict)  # for the harness, beside the cases


class _Launch(NamedTuple):
    """How each process of a run starts: its command line, setup, environment and sys.path."""

    argv: Callable[[int], list[str]]
    setup: Callable[[], None]
    env: dict[str, str]
    import_paths: list[str]
    processes_inside: bool


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
    if iso.bubblewrap is not None:
        launch = _bubblewrapped(iso, iso.bubblewrap, limits, uid)
    else:
        launch = _unshared(iso, limits, uid, home)
    setup = launch.setup
    if uid is not None and iso.unshare is None:  # bwrap and the bare child drop to it here
        setup = dropping(setup, uid)
    return Run(
        spec=spec,
        cases=cases,
        limits=limits,
        argv=launch.argv,
        setup=setup,
        home=str(home),
        env=launch.env,
        sink=sink,
        log=workdir / "runner.log",
        uid=uid,
        deadline=time.monotonic() + limits.wall_seconds,
        import_paths=launch.import_paths,
        processes_inside=launch.processes_inside,
        wrapped=iso.bubblewrap is not None,
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


def _bubblewrapped(iso: Isolation, bwrap: Bubblewrap, limits: Limits, uid: int | None) -> _Launch:
    env, source = child_env("/tmp"), _harness_source()

    def argv(fd: int) -> list[str]:
        code = [iso.interpreter, "-I", "-S", "-c", source, str(fd)]
        return bwrap.wrap(code, env=env, tmp_bytes=limits.tmp_bytes)

    return _Launch(
        argv=argv,
        setup=child_setup(limits, private_tmp=False, hide=(), owner=uid or 0),
        env=env,
        import_paths=[PACKAGES_MOUNT] if bwrap.packages else [],
        processes_inside=uid is None and bwrap.process_limit,
    )


def _unshared(iso: Isolation, limits: Limits, uid: int | None, home: Path) -> _Launch:
    """unshare's namespaces as root, or none: the harness runs the interpreter directly."""
    if uid is not None and not iso.filesystem:  # the code works in `home`, as its own uid
        home.parent.chmod(0o711)
        os.chown(home, uid, uid)
    interpreter = iso.interpreter if uid is not None else sys.executable
    hide = hidden_paths(interpreter) if iso.filesystem else ()
    source = _harness_source()

    def argv(fd: int) -> list[str]:
        return command(iso, uid, [interpreter, "-I", "-S", "-c", source, str(fd)])

    return _Launch(
        argv=argv,
        setup=child_setup(limits, private_tmp=iso.filesystem, hide=hide, owner=uid or 0),
        env=child_env("/tmp" if iso.filesystem else str(home)),
        import_paths=[str(p) for p in search_roots()],
        processes_inside=False,
    )


@functools.cache
def _harness_source() -> str:
    return HARNESS.read_text(encoding="utf-8")


@functools.cache
def _child_source(name: str) -> str:
    return CHILD_MODULES[name].read_text(encoding="utf-8")
