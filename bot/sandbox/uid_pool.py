"""The unprivileged uids that runs execute as, and the processes that run under a uid.

The uids start at `Settings.runner_uid` and there are `RUNNER_UID_POOL` of them; a uid with an
account on this machine is never used.
"""

from __future__ import annotations

import fcntl
import functools
import os
import pwd
import signal
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

from bot.config import RUNNER_UID_POOL, get_settings
from bot.sandbox.report import SandboxError


def uid_base() -> int:
    return get_settings().runner_uid


@functools.cache
def _has_account(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


class _UidPool:
    """One uid per concurrent run, so that process limits and clean-up never mix two runs.

    A uid is held through a lock file, so two apps (or an app and `interview-bot check`) on one
    machine never share one; the kernel drops the lock when its holder dies, which is what makes
    killing the leftovers of a uid safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}  # uid -> fd of its lock file

    def acquire(self) -> int:
        base = uid_base()
        with self._lock:
            for uid in range(base, base + RUNNER_UID_POOL):
                if uid in self._held or _has_account(uid):
                    continue
                fd = _lock_file(uid)
                if fd is None:
                    continue  # another process runs code as this uid
                kill_uid(uid)  # leftovers of an app that died in the middle of a run
                if pids_of(uid, zombies=True):  # zombies still count against RLIMIT_NPROC
                    os.close(fd)
                    continue
                self._held[uid] = fd
                return uid
        raise SandboxError(f"no free uid in {base}..{base + RUNNER_UID_POOL - 1} for another run")

    def release(self, uid: int) -> None:
        with self._lock:
            fd = self._held.pop(uid, None)
        if fd is not None:
            os.close(fd)  # closing the file drops the lock


def _lock_file(uid: int) -> int | None:
    folder = Path(tempfile.gettempdir()) / "interview-bot-runner"
    folder.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(folder / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


POOL = _UidPool()


def pids_of(uid: int, *, zombies: bool = False) -> list[int]:
    """Processes whose real uid is `uid` (from /proc/PID/status, which setsid cannot hide)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as status:
                lines = status.read(4096).split(b"\n")
        except OSError:
            continue
        fields = dict(line.split(b":", 1) for line in lines if b":" in line)
        ids, state = fields.get(b"Uid", b"").split(), fields.get(b"State", b"").strip()
        if ids and int(ids[0]) == uid and (zombies or not state.startswith(b"Z")):
            found.append(int(name))
    return found


def kill_uid(uid: int) -> None:
    for _ in range(200):
        pids = pids_of(uid)
        if not pids:
            return
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)
