"""How the child process is set up: its environment, its limits, its private filesystem, its uid.

`child_setup` runs in the child between fork and exec (through libc, as root when the app is
root): a new session, a private mount namespace with its own tmpfs and the content hidden, the
resource limits, and no new privileges.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import PROJECT_ROOT, get_settings
from bot.sandbox.report import Limits

SAFE_PATH = "/usr/bin:/bin"

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PRIVATE_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # each a private tmpfs in a run
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38


def _load_libc() -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
        libc.unshare.argtypes = [ctypes.c_int]
        libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
        return libc
    except (OSError, AttributeError):
        return None


LIBC: Any = _load_libc() if sys.platform == "linux" else None


def child_env(home: str) -> dict[str, str]:
    return {
        "PATH": SAFE_PATH,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "HOME": home,
        "TMPDIR": home,
        "OPENBLAS_NUM_THREADS": "1",  # numpy: one thread, within the process limit, same timing
    }


def _check(result: int) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))


def _private_filesystem(tmp_options: bytes, hide: tuple[bytes, ...]) -> None:
    _check(LIBC.unshare(CLONE_NEWNS))
    _check(LIBC.mount(None, b"/", None, MS_REC | MS_PRIVATE, None))  # nothing leaks out
    for path in hide:
        if os.path.isdir(path):
            flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
            _check(LIBC.mount(b"tmpfs", path, b"tmpfs", flags, b"size=4k,mode=0555"))
        elif os.path.exists(path):
            _check(LIBC.mount(b"/dev/null", path, None, MS_BIND, None))
    _check(LIBC.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, tmp_options))
    for extra in (d.encode() for d in PRIVATE_DIRS[1:]):
        if os.path.isdir(extra):
            _check(LIBC.mount(b"/tmp", extra, None, MS_BIND, None))
    os.chdir("/tmp")


def child_setup(
    limits: Limits, *, private_tmp: bool, hide: tuple[bytes, ...], owner: int
) -> Callable[[], None]:
    """Runs in the child between fork and exec, as root when the app is root."""
    options = f"size={limits.tmp_bytes},mode=0700,uid={owner},gid={owner}".encode()
    nproc = owner != 0

    def setup() -> None:
        os.setsid()
        if private_tmp:
            _private_filesystem(options, hide)
        cpu = limits.cpu_seconds
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if nproc:
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        if LIBC is not None:
            LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return setup


def dropping(setup: Callable[[], None], uid: int) -> Callable[[], None]:
    """Without unshare's --setuid, drop to `uid` here, after the limits are set as root."""

    def drop() -> None:
        setup()
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        if LIBC is not None:  # a change of uid clears the parent-death signal
            LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return drop


def hidden_paths(interpreter: str) -> tuple[bytes, ...]:
    """Content and data the code has no business reading (hidden test expectations, secrets)."""
    from bot.content.bank import LABELLED_DIR

    settings = get_settings()
    roots = {PROJECT_ROOT, settings.content_dir.resolve()}
    paths = [r / sub for r in roots for sub in ("question_bank", "kb", LABELLED_DIR, ".env")]
    paths += [settings.data_dir, Path.cwd() / ".env"]
    exe = Path(os.path.realpath(interpreter))
    keep = [p.resolve() for p in paths if p.exists()]
    return tuple(sorted({bytes(p) for p in keep if not exe.is_relative_to(p)}))
