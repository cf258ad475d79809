"""How far the child process is isolated on this machine, and the command line that isolates it.

Probed once per process: which namespaces unshare(1) can make, whether a private mount namespace
works (set up between fork and exec through libc, see `bot.sandbox.child`), and which Python
interpreter an unprivileged uid (from `bot.sandbox.uid_pool`) can run with its own standard library.
`protections()` turns the result into words.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass
from typing import Any

from bot.sandbox.child import LIBC, PRIVATE_DIRS, SAFE_PATH, child_env, child_setup, dropping
from bot.sandbox.packages import ALLOWED_PACKAGES
from bot.sandbox.report import Limits, Protection
from bot.sandbox.uid_pool import POOL, uid_base

PID_FLAGS = ["--pid", "--fork", "--kill-child", "--mount-proc"]


@dataclass(frozen=True)
class Isolation:
    unshare: str | None  # unshare(1), when at least one of its namespaces works
    network: bool
    pid_namespace: bool
    filesystem: bool
    user: bool
    interpreter: str
    version: str
    missing: dict[str, str]  # protection -> why it is not available


_PROBE_LOCK = threading.Lock()
_PROBED: list[Isolation] = []

INTERPRETER_PROBE = (
    "import bisect, collections, functools, heapq, itertools, json, math, os, re, sys\n"
    "print(json.dumps({'version': list(sys.version_info[:2]), 'full': sys.version.split()[0],"
    " 'exe': os.path.realpath(sys.executable), 'base': sys.base_prefix, 'uid': os.getuid()}))"
)


def machine() -> Isolation:
    """What this machine supports, probed on first use."""
    with _PROBE_LOCK:
        if not _PROBED:
            _PROBED.append(_probe())
        return _PROBED[0]


def _probe() -> Isolation:
    version = sys.version.split()[0]
    if sys.platform != "linux" or os.geteuid() != 0:
        why = (
            "only on Linux"
            if sys.platform != "linux"
            else f"needs root, and the app runs as uid {os.geteuid()}"
        )
        keys = ("network_namespace", "pid_namespace", "private_filesystem", "unprivileged_user")
        return Isolation(
            None, False, False, False, False, sys.executable, version, dict.fromkeys(keys, why)
        )
    missing: dict[str, str] = {}
    tool = shutil.which("unshare", path=SAFE_PATH)
    interpreter = _outside_private_dirs(_interpreters())
    quiet = [interpreter, "-I", "-S", "-c", ""]
    plain = child_setup(Limits(), private_tmp=False, hide=(), owner=0)
    network = pid_ns = False
    if tool is None:
        missing["network_namespace"] = missing["pid_namespace"] = "unshare (util-linux) not found"
    else:
        network, why = _try([tool, "--net", "--", *quiet], plain)
        if not network:
            missing["network_namespace"] = f"unshare --net failed: {why}"
        pid_ns, why = _try([tool, *PID_FLAGS, "--", *quiet], plain)
        if not pid_ns:
            missing["pid_namespace"] = f"unshare --pid failed: {why}"
    filesystem, why = False, "libc is not reachable through ctypes"
    if LIBC is not None:
        private = child_setup(Limits(), private_tmp=True, hide=(), owner=0)
        filesystem, why = _try(quiet, private)
    if not filesystem:
        missing["private_filesystem"] = f"a private mount namespace failed: {why}"
    base = Isolation(
        tool if network or pid_ns else None, network, pid_ns, filesystem, False, interpreter,
        version, missing,
    )  # fmt: skip
    return _probe_user(base)


def _probe_user(base: Isolation) -> Isolation:
    """Find an interpreter that an unprivileged uid can run with its own standard library."""
    uid = POOL.acquire()
    tried: list[str] = []
    try:
        for interpreter in _interpreters():
            trial = Isolation(**{**asdict(base), "user": True, "interpreter": interpreter})
            argv = command(trial, uid, [interpreter, "-I", "-S", "-c", INTERPRETER_PROBE])
            setup = child_setup(Limits(), private_tmp=trial.filesystem, hide=(), owner=uid)
            ok, out = _try(argv, setup if trial.unshare else dropping(setup, uid))
            seen = _parse_probe(out) if ok else None
            if seen and _coherent(seen, uid):
                return Isolation(**{**asdict(trial), "version": str(seen["full"])})
            tried.append(interpreter)
    finally:
        POOL.release(uid)
    base.missing["unprivileged_user"] = (
        "no Python interpreter whose standard library an unprivileged user can read "
        f"(tried {', '.join(tried)})"
    )
    return base


def _outside_private_dirs(interpreters: list[str]) -> str:
    """The first interpreter that a private /tmp does not hide (a checkout or venv may live in
    /tmp; run from there, the child's own interpreter would vanish under the private tmpfs)."""
    for path in interpreters:
        if not any(path == d or path.startswith(d + "/") for d in PRIVATE_DIRS):
            return path
    return interpreters[0]


def _interpreters() -> list[str]:
    name = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    found = [sys.executable, os.path.realpath(sys.executable), getattr(sys, "_base_executable", "")]
    found += [shutil.which(n, path="/usr/local/bin:/usr/bin:/bin") or "" for n in (name, "python3")]
    return list(dict.fromkeys(p for p in found if p))


def _parse_probe(out: str) -> dict[str, Any] | None:
    with suppress(ValueError, IndexError):
        seen = json.loads(out.strip().splitlines()[-1])
        return seen if isinstance(seen, dict) else None
    return None


def _coherent(seen: dict[str, Any], uid: int) -> bool:
    """Same Python version, run as `uid`, and the executable lives in its own prefix."""
    prefix = str(seen.get("base", "")).rstrip("/") + "/"
    return (
        seen.get("version") == list(sys.version_info[:2])
        and seen.get("uid") == uid
        and str(seen.get("exe", "")).startswith(prefix)
    )


def _try(argv: list[str], setup: Callable[[], None] | None = None) -> tuple[bool, str]:
    try:
        done = subprocess.run(
            argv, preexec_fn=setup, capture_output=True, timeout=15, cwd="/", env=child_env("/")
        )
    except (OSError, subprocess.SubprocessError) as error:
        return False, str(error)
    text = done.stdout.decode("utf-8", "replace")
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return False, lines[-1] if lines else f"exit code {done.returncode}"
    return True, text


def protections(
    limits: Limits | None = None, iso: Isolation | None = None
) -> dict[str, Protection]:
    """Which protections a run gets on this machine, each with a short description."""
    limits, iso = limits or Limits(), iso or machine()
    mb = 1024 * 1024
    rows = {
        "rlimits": (
            True,
            f"per process: CPU {limits.cpu_seconds} s, memory {limits.memory_bytes // mb} MB, "
            f"files up to {limits.file_bytes // 1024} KB, {limits.open_files} open files, "
            "no core dumps",
        ),
        "wall_timeout": (
            True,
            "each test has its own time limit (2 s unless the question says otherwise) and the "
            f"whole run at most {limits.wall_seconds:g} s; a test over its limit is killed and "
            "the rest go on in a new process",
        ),
        "scrubbed_env": (
            True,
            "the code sees only PATH, LANG, HOME, TMPDIR and PYTHONHASHSEED: API keys and other "
            "secrets of the app are not passed on",
        ),
        "isolated_interpreter": (
            True,
            f"{iso.interpreter} -I -S (Python {iso.version}): no PYTHON* variables, no "
            f"site-packages beyond {', '.join(ALLOWED_PACKAGES)} (any other third-party import is "
            "refused); the harness is passed as source, not as a file the code could change",
        ),
        "output_cap": (
            True,
            f"printed output is kept up to {limits.output_bytes // 1024} KB per run, the rest is "
            "discarded and the test that crossed the limit is an error",
        ),
        "network_namespace": (
            iso.network,
            "own network namespace with no interface up: no connection at all, not even to "
            "localhost",
        ),
        "pid_namespace": (
            iso.pid_namespace,
            "own PID namespace and /proc: other processes are invisible, and everything the code "
            "starts dies with the test process",
        ),
        "private_filesystem": (
            iso.filesystem,
            f"own mount namespace: a private {limits.tmp_bytes // mb} MB tmpfs as /tmp, /var/tmp, "
            "/dev/shm and /run/lock; question bank, knowledge base, labelled answers, data "
            "directory and .env hidden",
        ),
        "unprivileged_user": (
            iso.user,
            f"runs as a uid of its own from {uid_base()} up (no groups, no new privileges): it "
            "cannot write outside its /tmp, read other users' files or signal their processes",
        ),
        "process_limit": (
            iso.user,
            f"at most {limits.processes} processes and threads (RLIMIT_NPROC on the run's own "
            "uid); whatever is left when a test ends is killed",
        ),
    }
    missing = dict(iso.missing)
    missing.setdefault(
        "process_limit",
        "RLIMIT_NPROC is ignored for root and counts every process of a shared user, so it needs "
        "the run's own unprivileged uid",
    )
    consequences = {
        "network_namespace": "the code can open network connections",
        "pid_namespace": "the code can see other processes, and a child it starts in a new "
        "session is found by uid only",
        "private_filesystem": "the code can write to the shared /tmp and read the content files",
        "unprivileged_user": "the code runs with the app's own user and can read and write what "
        "the app can",
        "process_limit": "a fork bomb is stopped only by the time limits",
    }
    return {
        name: Protection(
            active, detail if active else f"missing ({missing[name]}): {consequences[name]}"
        )
        for name, (active, detail) in rows.items()
    }


# --- the command line --------------------------------------------------------------------------


def command(iso: Isolation, uid: int | None, argv: list[str]) -> list[str]:
    if iso.unshare is None:
        return argv
    prefix = [iso.unshare] + (["--net"] if iso.network else [])
    prefix += PID_FLAGS if iso.pid_namespace else []
    if uid is not None:  # unshare drops to the uid once the namespaces exist
        prefix += ["--setgid", str(uid), "--setuid", str(uid)]
    return [*prefix, "--", *argv]
