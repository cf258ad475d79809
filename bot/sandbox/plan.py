"""One run, prepared before its first process starts.

A run holds the tests, the limits, the command line, the child's setup, the working directory,
and the files its printed output and its log go to.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.content.models import CodeTest, CodingSpec
from bot.sandbox.child import child_env, child_setup, dropping, hidden_paths
from bot.sandbox.isolation import Isolation, command
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
    log: Path  # stderr of unshare and of the interpreter before the harness takes over
    uid: int | None
    deadline: float


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
