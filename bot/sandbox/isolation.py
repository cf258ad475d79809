"""How far the child process is isolated on this machine, and the command line that isolates it.

Probed once per process; the first of these that works is used:

1. bubblewrap (`bot.sandbox.bubblewrap`), as root (dropped to a pool uid first) or as a normal
   user, with the allow-list filesystem of `bot.sandbox.allow_list`;
2. as root only: the namespaces unshare(1) can make, a private mount namespace set up between
   fork and exec through libc (`bot.sandbox.child`), and an unprivileged uid from
   `bot.sandbox.uid_pool` running an interpreter it can read;
3. resource limits only.

`bot.sandbox.safeguards` turns the result into words.
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
from typing import Any, Literal

from bot.sandbox.allow_list import DESCRIBE, AllowListError, mounts, package_mounts
from bot.sandbox.bubblewrap import Bubblewrap, find_tool, nproc_per_namespace, version_of
from bot.sandbox.child import LIBC, PRIVATE_DIRS, SAFE_PATH, child_env, child_setup, dropping
from bot.sandbox.packages import package_dirs
from bot.sandbox.report import Limits
from bot.sandbox.uid_pool import POOL

PID_FLAGS = ["--pid", "--fork", "--kill-child", "--mount-proc"]
NAMESPACE_KEYS = ("network_namespace", "pid_namespace", "private_filesystem", "unprivileged_user")
Backend = Literal["bubblewrap", "namespaces", "rlimits"]


@dataclass(frozen=True)
class Isolation:
    unshare: str | None  # unshare(1), when at least one of its namespaces works
    network: bool
    pid_namespace: bool
    filesystem: bool  # a private /tmp (and, with bubblewrap, the allow-list filesystem)
    user: bool  # runs as a uid of the pool (the app is root)
    interpreter: str
    version: str
    missing: dict[str, str]  # protection -> why it is not available
    bubblewrap: Bubblewrap | None = None  # the backend, when it works here

    @property
    def backend(self) -> Backend:
        if self.bubblewrap is not None:
            return "bubblewrap"
        return "namespaces" if self.unshare or self.filesystem or self.user else "rlimits"


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
    if sys.platform != "linux":
        return _bare("only on Linux", "only on Linux")
    found, why = _probe_bubblewrap()
    if found is not None:
        return found
    if os.geteuid() != 0:
        uid = os.geteuid()
        return _bare(why, f"without bubblewrap it needs root, and the app runs as uid {uid}")
    iso = _probe_namespaces()
    iso.missing["bubblewrap"] = iso.missing["filesystem_allow_list"] = why
    return iso


def _bare(bubblewrap: str, why: str) -> Isolation:
    missing = dict.fromkeys(NAMESPACE_KEYS, why)
    missing["bubblewrap"] = missing["filesystem_allow_list"] = bubblewrap
    return Isolation(
        None, False, False, False, False, sys.executable, sys.version.split()[0], missing
    )


# --- 1. bubblewrap -----------------------------------------------------------------------------


def _probe_bubblewrap() -> tuple[Isolation | None, str]:
    """bubblewrap with the first interpreter it can run; else None and why not."""
    tool = find_tool()
    if tool is None:
        return None, "bwrap not found (the Debian package bubblewrap)"
    uid = POOL.acquire() if os.geteuid() == 0 else None
    why = "no Python interpreter found"
    try:
        for interpreter in dict.fromkeys(os.path.realpath(p) for p in _interpreters()):
            found, why = _bubblewrap_with(tool, interpreter, uid)
            if found is not None:
                return found, ""
    finally:
        if uid is not None:
            POOL.release(uid)
    return None, why


def _bubblewrap_with(tool: str, interpreter: str, uid: int | None) -> tuple[Isolation | None, str]:
    """bubblewrap running `interpreter` as `uid` (None: as the app), with the allowed packages if
    it can bind them, else without them (and says so): the sandbox matters more than numpy."""
    plain = child_setup(Limits(), private_tmp=False, hide=(), owner=uid or 0)
    setup = plain if uid is None else dropping(plain, uid)
    runs_as = os.getuid() if uid is None else uid
    ok, out = _try([interpreter, "-I", "-S", "-c", DESCRIBE], setup)
    seen = _parse_probe(out) if ok else None
    if seen is None or not _coherent(seen, runs_as):
        return None, f"{interpreter} is not usable: {out.strip()[-200:] or 'another Python'}"
    try:
        view = mounts(seen)
    except AllowListError as error:
        return None, str(error)
    names, version, nproc = tuple(sorted(package_dirs())), version_of(tool), nproc_per_namespace()
    tries = [(names, view + package_mounts()), ((), view)] if names else [((), view)]
    why = ""
    for packages, args in tries:
        bwrap = Bubblewrap(tool, version, args, nproc, packages)
        probe = [str(seen["exe"]), "-I", "-S", "-c", INTERPRETER_PROBE]
        ok, out = _try(
            bwrap.wrap(probe, env=child_env("/tmp"), tmp_bytes=Limits().tmp_bytes), setup
        )
        inside = _parse_probe(out) if ok else None
        if inside is not None and _coherent(inside, runs_as):
            return _in_bubblewrap(bwrap, str(seen["exe"]), str(inside["full"]), uid, why), ""
        why = f"bwrap failed here: {out.strip()[-200:]}"
    return None, why


def _in_bubblewrap(
    bwrap: Bubblewrap, interpreter: str, version: str, uid: int | None, packages_failed: str
) -> Isolation:
    missing = {}
    if uid is None:
        missing["unprivileged_user"] = f"needs root, and the app runs as uid {os.geteuid()}"
    if packages_failed:
        missing["allowed_packages"] = f"{', '.join(sorted(package_dirs()))}: {packages_failed}"
    return Isolation(None, True, True, True, uid is not None, interpreter, version, missing, bwrap)


# --- 2. as root: unshare(1), a mount namespace through libc, a pool uid -----------------------


def _probe_namespaces() -> Isolation:
    version = sys.version.split()[0]
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


# --- the command line (unshare) ----------------------------------------------------------------


def command(iso: Isolation, uid: int | None, argv: list[str]) -> list[str]:
    if iso.unshare is None:
        return argv
    prefix = [iso.unshare] + (["--net"] if iso.network else [])
    prefix += PID_FLAGS if iso.pid_namespace else []
    if uid is not None:  # unshare drops to the uid once the namespaces exist
        prefix += ["--setgid", str(uid), "--setuid", str(uid)]
    return [*prefix, "--", *argv]
