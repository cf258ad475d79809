"""Bubblewrap (`bwrap`), the isolation backend wherever it works: as root and as a normal user.

bwrap (Debian's `bubblewrap`, the tool Flatpak relies on) needs no privileges where the kernel
lets users create user namespaces. Each test process gets new user, PID, network, IPC, UTS and
cgroup namespaces, no capabilities, no way to create further user namespaces, a new session (no
terminal to inject input into), an environment of exactly the child's variables, and the
allow-list filesystem of `bot.sandbox.allow_list`. It dies with the server, and everything it
starts dies with it (the interpreter is the PID namespace's init, see AS_INIT). As root, the
runner first drops to a uid of the pool (`bot.sandbox.uid_pool`), so bwrap itself runs
unprivileged and the process limit and the clean-up by uid still apply.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
from dataclasses import dataclass

from bot.sandbox.child import SAFE_PATH

NAMESPACES = (
    "--unshare-user",
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup",
)
HARDENING = ("--die-with-parent", "--new-session", "--disable-userns", "--cap-drop", "ALL")
# The interpreter is the PID namespace's init: bwrap reaps it directly. With bwrap's own init in
# between, that init outlives bwrap for a moment and lands on the machine's init as a zombie of
# the run's uid, which keeps the uid from being reused until the machine's init reaps it.
# As init, the code ignores signals it has no handler for, except those the kernel forces (a
# crash, SIGKILL at the hard CPU limit), and when it exits everything it started is killed.
AS_INIT = ("--as-pid-1",)
HOSTNAME = "sandbox"
# Linux counts RLIMIT_NPROC per user namespace from 5.14 on: set inside the sandbox, it limits
# the sandbox's own processes instead of every process of the user.
NPROC_PER_NAMESPACE = (5, 14)
SIGNAL_EXIT = 128  # bwrap exits with 128 + N when the code was killed by signal N


@dataclass(frozen=True)
class Bubblewrap:
    tool: str
    version: str
    mounts: tuple[str, ...]  # bwrap arguments that build the allow-list view (not /tmp)
    process_limit: bool  # RLIMIT_NPROC set inside the sandbox counts only its processes
    packages: tuple[str, ...] = ()  # the allowed packages bound at allow_list.PACKAGES_MOUNT

    def wrap(self, argv: list[str], *, env: dict[str, str], tmp_bytes: int) -> list[str]:
        """The command line that runs `argv` inside the sandbox."""
        args = [self.tool, *NAMESPACES, *HARDENING, *AS_INIT, "--hostname", HOSTNAME, "--clearenv"]
        for name, value in env.items():
            args += ["--setenv", name, value]
        # /tmp first: an interpreter that lives under /tmp is then bound on top of it
        args += ["--size", str(tmp_bytes), "--tmpfs", "/tmp", *self.mounts]
        args += ["--remount-ro", "/", "--chdir", "/tmp"]
        return [*args, "--", *argv]


def find_tool() -> str | None:
    return shutil.which("bwrap", path=SAFE_PATH)


def version_of(tool: str) -> str:
    try:
        done = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return "unknown version"
    return done.stdout.strip() or "unknown version"


def nproc_per_namespace(release: str | None = None) -> bool:
    """Whether this kernel counts RLIMIT_NPROC per user namespace."""
    found = re.match(r"(\d+)\.(\d+)", release or platform.release())
    return found is not None and (int(found[1]), int(found[2])) >= NPROC_PER_NAMESPACE


def signal_of(returncode: int) -> int:
    """bwrap's exit code as subprocess reports a death by signal (negative), else unchanged."""
    if SIGNAL_EXIT < returncode < SIGNAL_EXIT + 65:
        return -(returncode - SIGNAL_EXIT)
    return returncode
