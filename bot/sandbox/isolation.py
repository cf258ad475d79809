"""How far the child process is isolated on this machine, and how it is set up.

Probed once per process: which namespaces unshare(1) can make, whether a private mount namespace
works (set up between fork and exec through libc), and which Python interpreter an unprivileged uid
can run with its own standard library. `protections()` turns the result into words.
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import json
import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.config import PROJECT_ROOT, RUNNER_UID_POOL, get_settings
from bot.sandbox.report import Limits, Protection, SandboxError

SAFE_PATH = "/usr/bin:/bin"
PID_FLAGS = ["--pid", "--fork", "--kill-child", "--mount-proc"]

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PRIVATE_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # each a private tmpfs in a run
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38


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


def _load_libc() -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
        libc.unshare.argtypes = [ctypes.c_int]
        libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
        return libc
    except (OSError, AttributeError):
        return None


_LIBC: Any = _load_libc() if sys.platform == "linux" else None
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
    if _LIBC is not None:
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
            f"{iso.interpreter} -I -S (Python {iso.version}): no site-packages, no PYTHON* "
            "variables; the harness is passed as source, not as a file the code could change",
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
            f"runs as a uid of its own from {_uid_base()} up (no groups, no new privileges): it "
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


# --- uids -------------------------------------------------------------------------------------


def _uid_base() -> int:
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
        base = _uid_base()
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


# --- the child process ------------------------------------------------------------------------


def command(iso: Isolation, uid: int | None, argv: list[str]) -> list[str]:
    if iso.unshare is None:
        return argv
    prefix = [iso.unshare] + (["--net"] if iso.network else [])
    prefix += PID_FLAGS if iso.pid_namespace else []
    if uid is not None:  # unshare drops to the uid once the namespaces exist
        prefix += ["--setgid", str(uid), "--setuid", str(uid)]
    return [*prefix, "--", *argv]


def child_env(home: str) -> dict[str, str]:
    return {
        "PATH": SAFE_PATH,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "HOME": home,
        "TMPDIR": home,
    }


def _check(result: int) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))


def _private_filesystem(tmp_options: bytes, hide: tuple[bytes, ...]) -> None:
    _check(_LIBC.unshare(CLONE_NEWNS))
    _check(_LIBC.mount(None, b"/", None, MS_REC | MS_PRIVATE, None))  # nothing leaks out
    for path in hide:
        if os.path.isdir(path):
            flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
            _check(_LIBC.mount(b"tmpfs", path, b"tmpfs", flags, b"size=4k,mode=0555"))
        elif os.path.exists(path):
            _check(_LIBC.mount(b"/dev/null", path, None, MS_BIND, None))
    _check(_LIBC.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, tmp_options))
    for extra in (d.encode() for d in PRIVATE_DIRS[1:]):
        if os.path.isdir(extra):
            _check(_LIBC.mount(b"/tmp", extra, None, MS_BIND, None))
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
        if _LIBC is not None:
            _LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return setup


def dropping(setup: Callable[[], None], uid: int) -> Callable[[], None]:
    """Without unshare's --setuid, drop to `uid` here, after the limits are set as root."""

    def drop() -> None:
        setup()
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        if _LIBC is not None:  # a change of uid clears the parent-death signal
            _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

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
