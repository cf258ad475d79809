"""One run, prepared before its first process starts.

A run holds the tests, the limits, the command line, the child's setup, the working directory,
and the files its printed output and its log go to. Under bubblewrap the allowed packages are
bound at a fixed path; without it their site-packages directory goes on the child's sys.path
(every package there is then importable: only bubblewrap's allow-list narrows that down).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from bot.content.models import CodeTest, CodingSpec
from bot.sandbox.allow_list import PACKAGES_MOUNT
from bot.sandbox.bubblewrap import Bubblewrap
from bot.sandbox.child import child_env, child_setup, dropping, hidden_paths
from bot.sandbox.isolation import Isolation, command
from bot.sandbox.packages import search_roots
from bot.sandbox.report import Limits

HARNESS = Path(__file__).resolve().with_name("harness.py")


@dataclass
class Run:
    spec: CodingSpec
    tests: list[CodeTest]
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


class _Launch(NamedTuple):
    """How each process of a run starts: its command line, setup, environment and sys.path."""

    argv: Callable[[int], list[str]]
    setup: Callable[[], None]
    env: dict[str, str]
    import_paths: list[str]
    processes_inside: bool


def prepare(
    spec: CodingSpec,
    tests: list[CodeTest],
    limits: Limits,
    iso: Isolation,
    uid: int | None,
    workdir: Path,
) -> Run:
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
        tests=tests,
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
    )


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
