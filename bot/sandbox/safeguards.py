"""Which protections a run gets on this machine, each in words: what it does when active, what is
missing and why, and what follows from that, when not. Every run carries this in its report, and
`summary()` is the one line `serve` prints at start."""

from __future__ import annotations

from bot.sandbox.isolation import Isolation, machine
from bot.sandbox.packages import ALLOWED_PACKAGES
from bot.sandbox.report import Limits, Protection
from bot.sandbox.uid_pool import uid_base

MB = 1024 * 1024


def protections(
    limits: Limits | None = None, iso: Isolation | None = None
) -> dict[str, Protection]:
    """Which protections a run gets on this machine, each with a short description."""
    limits, iso = limits or Limits(), iso or machine()
    rows = {**_always(limits, iso), **_isolation(limits, iso)}
    missing = {**dict.fromkeys(rows, "not available here"), **_MISSING_DEFAULT, **iso.missing}
    follows = _consequences(iso)
    return {
        name: Protection(
            active, detail if active else f"missing ({missing[name]}): {follows[name]}"
        )
        for name, (active, detail) in rows.items()
    }


def summary(iso: Isolation | None = None) -> str:
    """One line on how candidates' code is isolated here, for the start of `serve`."""
    iso = iso or machine()
    if iso.bubblewrap is not None:
        who = "a uid of its own" if iso.user else "the app's uid, with no capabilities"
        return (
            f"code runner: {iso.bubblewrap.version} sandbox (own user, PID, network, IPC, UTS and "
            f"cgroup namespaces; allow-list filesystem; runs as {who})"
        )
    why = iso.missing.get("bubblewrap", "unknown")
    if iso.backend == "namespaces":
        return (
            f"code runner: WARNING: no bubblewrap ({why}); falling back to root-only namespaces "
            "without the allow-list filesystem (install bubblewrap: apt-get install bubblewrap)"
        )
    return (
        f"code runner: WARNING: no sandbox here ({why}); candidates' code runs with resource "
        "limits only, as this user: it can read this user's files and secrets, see and signal "
        "the server and leave processes behind (install bubblewrap: apt-get install bubblewrap)"
    )


def _always(limits: Limits, iso: Isolation) -> dict[str, tuple[bool, str]]:
    env = (
        "the code sees only PATH, LANG, HOME, TMPDIR, PYTHONHASHSEED and OPENBLAS_NUM_THREADS: "
        "API keys and other secrets of the app are not passed on"
    )
    if not (iso.pid_namespace or iso.user):
        env += (
            "; but without a PID namespace or a uid of its own the code can still read the app's "
            "environment through /proc/<app pid>/environ"
        )
    return {
        "rlimits": (
            True,
            f"per process: CPU {limits.cpu_seconds} s, memory {limits.memory_bytes // MB} MB, "
            f"files up to {limits.file_bytes // 1024} KB, {limits.open_files} open files, "
            "no core dumps, no new privileges",
        ),
        "wall_timeout": (
            True,
            "each test has its own time limit (2 s unless the question says otherwise) and the "
            f"whole run at most {limits.wall_seconds:g} s; a test over its limit is killed and "
            "the rest go on in a new process",
        ),
        "scrubbed_env": (True, env),
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
        "result_cap": (
            True,
            f"what the code's process sends back is read up to {limits.result_line_bytes // 1024} "
            f"KB per result and {limits.results_bytes // MB} MB per run; beyond that the test is "
            "stopped and the rest are not run",
        ),
    }


def _isolation(limits: Limits, iso: Isolation) -> dict[str, tuple[bool, str]]:
    bwrap = iso.bubblewrap
    net = "only a loopback of its own" if bwrap else "no interface up"
    return {
        "bubblewrap": (
            bwrap is not None,
            (f"{bwrap.version} ({bwrap.tool}): " if bwrap else "")
            + "new user, PID, network, IPC, UTS and cgroup namespaces, all capabilities dropped, "
            "no new user namespaces inside, a new session, killed with the server",
        ),
        "network_namespace": (
            iso.network,
            f"own network namespace with {net}: no connection to this machine or beyond",
        ),
        "pid_namespace": (
            iso.pid_namespace,
            "own PID namespace and /proc: the app and other processes are invisible and cannot "
            "be signalled, and everything the code starts dies with the test process",
        ),
        "private_filesystem": (iso.filesystem, _private_tmp(limits, iso)),
        "filesystem_allow_list": (bwrap is not None, _allow_list(iso)),
        "unprivileged_user": (
            iso.user,
            f"runs as a uid of its own from {uid_base()} up (no groups, no new privileges): it "
            "cannot write outside its /tmp, read other users' files or signal their processes",
        ),
        "process_limit": (
            iso.user or bool(bwrap and bwrap.process_limit),
            f"at most {limits.processes} processes and threads (RLIMIT_NPROC "
            + ("on the run's own uid" if iso.user else "counted in the sandbox's user namespace")
            + "); whatever is left when a test ends is killed",
        ),
    }


def _allow_list(iso: Isolation) -> str:
    names = ", ".join(iso.bubblewrap.packages) if iso.bubblewrap else ""
    unbound = iso.missing.get("allowed_packages")
    packages = f"the allowed packages ({names})" if names else "no packages"
    if unbound:
        packages += f" (could not bind {unbound})"
    return (
        "the code sees only the interpreter, its standard library, the shared libraries it "
        f"needs, {packages}, a minimal /dev, its own /proc and its /tmp: no repository, "
        "checkout, .git, home, data directory or .env"
    )


def _private_tmp(limits: Limits, iso: Isolation) -> str:
    tmp = f"a private {limits.tmp_bytes // MB} MB tmpfs as /tmp"
    if iso.bubblewrap is not None:
        return tmp + "; everything else is read-only"
    return (
        tmp + ", /var/tmp, /dev/shm and /run/lock; question bank, knowledge base, labelled "
        "answers, data directory and .env hidden"
    )


_MISSING_DEFAULT = {
    "process_limit": "RLIMIT_NPROC is ignored for root and counts every process of a shared "
    "user, so it needs the run's own uid or a kernel that counts it per user namespace (5.14+)",
}


def _consequences(iso: Isolation) -> dict[str, str]:
    fallback = "root-only namespaces" if iso.backend == "namespaces" else "resource limits only"
    if iso.user:  # the run's own uid still keeps the app's files and processes out of reach
        seen = "other checkouts, .git and what else any user may read"
        processes = "the code can see other processes; what it leaves running is found by uid"
    else:
        seen = "the app's checkout, .git, data directory and .env"
        processes = (
            "the code can see the app, read its environment, signal it (os.kill(os.getppid(), 9) "
            "stops it) and leave processes running after the run"
        )
    own_uid = (
        "inside bubblewrap the code keeps the app's uid, but sees only the allow-listed files, "
        "read-only, and its own processes"
        if iso.bubblewrap is not None
        else "the code runs with the app's own user and can read and write what the app can"
    )
    return {
        "bubblewrap": f"falls back to {fallback}",
        "network_namespace": "the code can open network connections",
        "pid_namespace": processes,
        "private_filesystem": "the code can write to the shared /tmp and read the content files",
        "filesystem_allow_list": f"the code can read what its user may: {seen} included",
        "unprivileged_user": own_uid,
        "process_limit": "a fork bomb is stopped only by the time limits",
    }
