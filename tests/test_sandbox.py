from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.config import PROJECT_ROOT, RUNNER_UID_POOL, Settings
from bot.content import CodeTest, CodingSpec, Question
from bot.errors import ConfigError
from bot.sandbox import (
    Limits,
    RunReport,
    concurrency,
    isolation,
    protections,
    run_tests,
    run_tests_async,
    uid_pool,
)

CODING = {
    path.stem: path for path in sorted((PROJECT_ROOT / "question_bank").glob("**/coding-*.yaml"))
}
PAIR = "def pair_sum_indices(nums, target):\n"
ESCAPE = f"ib-escape-{uuid.uuid4().hex}"


def coding_of(path: object) -> CodingSpec:
    question = Question.model_validate(yaml.safe_load(CODING[str(path)].read_text()))
    assert question.coding is not None
    return question.coding


def spec() -> CodingSpec:
    return coding_of("coding-pair-sum-indices")


def quick(seconds: float = 1.0) -> list[CodeTest]:
    """The two examples with a shorter time limit, so hanging cases stay cheap."""
    return [t.model_copy(update={"time_limit_s": seconds}) for t in spec().examples]


@pytest.fixture
def run_uids(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The uids this test's runs got (other processes on the machine may run code too)."""
    taken: list[int] = []
    real = uid_pool.POOL.acquire

    def acquire() -> int:
        uid = real()
        taken.append(uid)
        return uid

    monkeypatch.setattr(uid_pool.POOL, "acquire", acquire)
    return taken


def leftovers(uids: list[int]) -> dict[int, int]:
    """Processes still alive under these uids: pid -> uid."""
    return {pid: uid for uid in set(uids) for pid in uid_pool.pids_of(uid)}


@pytest.mark.parametrize("question_id", sorted(CODING))
def test_reference_solution_passes_its_own_tests(question_id: str) -> None:
    coding = coding_of(question_id)
    report = run_tests(coding.reference_solution, coding, [*coding.examples, *coding.tests])
    failures = [r for r in report.results if r.status != "passed"]
    assert report.error is None, report.error
    assert not failures, failures
    assert report.total == len(coding.examples) + len(coding.tests)


ACTIVE = {name: p.active for name, p in protections().items()}


def _no_escape(report: RunReport) -> None:
    """Nothing lands outside the run; where a protection is missing, the test says so."""
    guarded = {
        Path("/tmp"): ACTIVE["private_filesystem"],
        Path("/root"): ACTIVE["unprivileged_user"] or os.geteuid() != 0,
        PROJECT_ROOT: ACTIVE["unprivileged_user"],
    }
    for place, protected in guarded.items():
        escaped = place / ESCAPE
        landed = escaped.exists()
        escaped.unlink(missing_ok=True)
        assert landed != protected, place
        if protected:
            break  # the code stops at the first write that fails


def _no_secret(report: RunReport) -> None:
    assert all("sk-should-not-leak" not in (r.actual or "") for r in report.results)
    assert [r.actual for r in report.results] == ["[False, 0]"] * 2


def _output_head_kept(report: RunReport) -> None:
    assert report.output_truncated and report.output.startswith("x" * 100)
    assert len(report.output) == 4096


NET = "Network is unreachable" if ACTIVE["network_namespace"] else None
# /root does not exist in the allow-list view; as a uid of its own, it is not writable
WRITE_REFUSED = (
    "FileNotFoundError"
    if ACTIVE["filesystem_allow_list"]
    else "PermissionError"
    if ACTIVE["unprivileged_user"]
    else None
)
NPROC = "processes and threads was reached" if ACTIVE["process_limit"] else None

# (case, code, status of the first test, message in it, further check)
HOSTILE: list[tuple[str, str, str, str | None, Callable[[RunReport], None] | None]] = [
    ("infinite loop", PAIR + "    while True:\n        pass\n", "timeout", "time limit", None),
    (
        "fork bomb",
        "import os\n" + PAIR + "    while True:\n        os.fork()\n",
        "error" if NPROC else "timeout",
        NPROC or "time limit",
        None,
    ),
    (
        "memory bomb",
        PAIR + "    return list(range(10**10))\n",
        "error",
        "MemoryError: the memory limit was reached",
        None,
    ),
    (
        "100 MB of output",
        "import sys\n"
        + PAIR
        + "    for _ in range(1600):\n        sys.stdout.write('x' * 65536)\n",
        "error",
        "output limit exceeded: the test printed more than 256 KB, so it was stopped",
        _output_head_kept,
    ),
    (
        "environment secrets",
        "import os\n" + PAIR + "    found = 0\n    for pid in os.listdir('/proc'):\n"
        "        try:\n"
        "            found += b'sk-should' in open(f'/proc/{pid}/environ', 'rb').read()\n"
        "        except OSError:\n            pass\n"
        "    return ['OPENAI_API_KEY' in os.environ, found]\n",
        "failed",
        None,
        _no_secret,
    ),
    (
        "write outside its directory",
        PAIR + f"    open('/tmp/{ESCAPE}', 'w').write('x')\n"
        f"    open('/root/{ESCAPE}', 'w').write('x')\n"
        f"    open({str(PROJECT_ROOT / ESCAPE)!r}, 'w').write('x')\n",
        "error",
        WRITE_REFUSED,
        _no_escape,
    ),
    (
        "reading the question bank",
        PAIR + f"    return open({str(CODING['coding-pair-sum-indices'])!r}).read()\n",
        "error" if ACTIVE["private_filesystem"] else "failed",
        "FileNotFoundError" if ACTIVE["private_filesystem"] else None,
        None,
    ),
    (
        "ctypes crash",
        "import ctypes\n" + PAIR + "    ctypes.string_at(0)\n",
        "killed",
        "segmentation fault",
        None,
    ),
    ("sys.exit", "import sys\n" + PAIR + "    sys.exit(0)\n", "error", "SystemExit", None),
    ("os._exit", "import os\n" + PAIR + "    os._exit(3)\n", "killed", "exited with code 3", None),
    (
        "fake results",
        "import os, sys\n" + PAIR + "    fd = int(sys.argv[1])\n"
        '    os.write(fd, b\'{"index": 1, "status": "returned", "value": [1, 2]}\\n\')\n'
        "    return [0, 1]\n",
        "killed",
        "result channel",
        None,
    ),
    (
        "wrong signature",
        "def pair_sum_indices(nums):\n    return []\n",
        "error",
        "TypeError",
        None,
    ),
]


@pytest.mark.parametrize(
    ("code", "status", "detail", "check"),
    [pytest.param(*row[1:], id=row[0]) for row in HOSTILE],
)
def test_hostile_code_is_contained(
    code: str,
    status: str,
    detail: str | None,
    check: Callable[[RunReport], None] | None,
    monkeypatch: pytest.MonkeyPatch,
    run_uids: list[int],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    tests = quick()
    report = run_tests(code, spec(), tests, limits=Limits(memory_bytes=512 * 1024 * 1024))
    assert report.error is None, report.error
    assert report.total == len(tests), "every test gets a result, even after a crash"
    first = report.results[0]
    assert first.status == status, first
    if detail:
        assert detail in (first.error or ""), first
    if check:
        check(report)
    assert not leftovers(run_uids), "nothing the code started outlives the run"


def test_network_is_cut_off_when_the_namespace_is_active() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.1)
        port = server.getsockname()[1]
        code = (
            "import socket\n" + PAIR + f"    socket.create_connection(('127.0.0.1', {port}), 2)\n"
            "    return [0, 1]\n"
        )
        report = run_tests(code, spec(), quick())
        reached = True
        try:
            server.accept()[0].close()
        except TimeoutError:
            reached = False
    if protections()["network_namespace"].active:
        assert report.results[0].status == "error" and not reached
        # unshare leaves no interface up; bubblewrap brings up a loopback of the sandbox's own
        refused = ("Network is unreachable", "Connection refused")
        assert any(word in (report.results[0].error or "") for word in refused)
    else:
        assert report.results[0].status == "passed", "loopback works without the namespace"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (PAIR[:-2] + "\n    return []\n", "SyntaxError"),
        ("def other(nums, target):\n    return []\n", "no function or class named"),
        ("import time\ntime.sleep(30)\n" + PAIR + "    return []\n", "did not finish loading"),
    ],
    ids=["syntax error", "no entry point", "slow import"],
)
def test_code_that_does_not_load_is_reported(code: str, message: str) -> None:
    report = run_tests(code, spec(), quick(), limits=Limits(startup_seconds=1.0))
    assert report.error is not None and message in report.error
    assert report.total == 0


def test_tests_after_a_timeout_still_run() -> None:
    code = PAIR + "    if target == 9:\n        while True: pass\n    return [1, 2]\n"
    report = run_tests(code, spec(), quick())
    assert [r.status for r in report.results] == ["timeout", "passed"]


def test_expected_values_never_reach_the_child() -> None:
    code = (
        "import gc\n" + PAIR + "    return [k for o in gc.get_objects() if isinstance(o, dict)"
        " for k in o if k == 'expected']\n"
    )
    report = run_tests(code, spec(), quick())
    assert [r.actual for r in report.results] == ["[]", "[]"]


def test_prints_are_kept_and_hidden_tests_are_marked() -> None:
    coding = spec()
    code = "import sys\n" + coding.reference_solution + "\nprint('loaded')\n"
    code += "sys.stderr.write('to stderr\\n')\n"
    report = run_tests(code, coding, [*coding.examples, *coding.tests[:2]])
    assert report.passed == 4
    assert report.output == "loaded\nto stderr\n" and not report.output_truncated
    assert [r.hidden for r in report.results] == [False, False, True, True]


def test_protections_are_reported_with_every_run() -> None:
    shown = protections()
    expected = {
        "rlimits",
        "wall_timeout",
        "scrubbed_env",
        "isolated_interpreter",
        "output_cap",
        "result_cap",
        "bubblewrap",
        "network_namespace",
        "pid_namespace",
        "private_filesystem",
        "filesystem_allow_list",
        "unprivileged_user",
        "process_limit",
    }
    assert set(shown) == expected
    assert all(p.detail for p in shown.values())
    assert all(p.detail.startswith("missing (") for p in shown.values() if not p.active)
    report = run_tests(spec().reference_solution, spec(), quick())
    data = report.to_dict()
    assert data["protections"] == {name: p.to_dict() for name, p in shown.items()}
    assert data["passed"] == data["total"] == 2
    assert RunReport.from_dict(data) == report, "a stored run reads back the same"


NOTHING = isolation.Isolation(
    unshare=None,
    network=False,
    pid_namespace=False,
    filesystem=False,
    user=False,
    interpreter=sys.executable,
    version="test",
    missing={
        key: "needs root, and the app runs as uid 1000"
        for key in ("network_namespace", "pid_namespace", "private_filesystem", "unprivileged_user")
    },
)


def test_without_any_namespace_the_runner_still_works_and_says_so() -> None:
    coding = spec()
    tests = [*coding.examples, *coding.tests]
    report = run_tests(coding.reference_solution, coding, tests, isolation=NOTHING)
    assert report.passed == report.total == 10
    for name in ("network_namespace", "unprivileged_user", "process_limit"):
        shown = report.protections[name]
        assert shown["active"] is False and shown["detail"].startswith("missing ("), name
    assert "needs root" in report.protections["unprivileged_user"]["detail"]
    assert report.protections["rlimits"]["active"] is True


def test_without_bubblewrap_or_unshare_root_still_drops_to_its_own_uid(
    monkeypatch: pytest.MonkeyPatch, run_uids: list[int]
) -> None:
    if os.geteuid() != 0:
        assert not protections()["unprivileged_user"].active
        return
    real_which = isolation.shutil.which
    monkeypatch.setattr(
        isolation.shutil,
        "which",
        lambda name, path=None: (
            None if name in ("unshare", "bwrap") else real_which(name, path=path)
        ),
    )
    probed = isolation._probe()
    assert probed.backend == "namespaces" and probed.bubblewrap is None
    assert probed.unshare is None and probed.user and probed.filesystem
    assert "bwrap not found" in probed.missing["bubblewrap"]
    assert "unshare (util-linux) not found" in probed.missing["network_namespace"]
    escaped = (
        "import os, time\n" + PAIR + "    if os.fork() == 0:\n        os.setsid()\n"
        "        time.sleep(60)\n    return [os.getuid() != 0, os.getgid() != 0]\n"
    )
    report = run_tests(escaped, spec(), quick(), isolation=probed)
    assert [r.actual for r in report.results] == ["[True, True]"] * 2
    assert run_uids and not leftovers(run_uids), "a child in its own session is killed by uid"
    bomb = "import os\n" + PAIR + "    while True:\n        os.fork()\n"
    report = run_tests(bomb, spec(), quick(), isolation=probed)
    assert "processes and threads" in (report.results[0].error or "")
    assert not leftovers(run_uids)


def test_a_slow_run_does_not_block_the_event_loop() -> None:
    async def scenario() -> tuple[float, bool, RunReport]:
        code = PAIR + "    while True:\n        pass\n"
        task = asyncio.create_task(run_tests_async(code, spec(), quick(1.0)[:1]))
        await asyncio.sleep(0.2)  # the child is running by now
        began = time.monotonic()
        for _ in range(10):
            await asyncio.sleep(0.01)
        return time.monotonic() - began, task.done(), await task

    ticks, done_early, report = asyncio.run(scenario())
    assert ticks < 0.5 and not done_early
    assert report.results[0].status == "timeout"


def test_concurrent_runs_are_capped(monkeypatch: pytest.MonkeyPatch, run_uids: list[int]) -> None:
    monkeypatch.setenv("INTERVIEW_BOT_RUNNER_CONCURRENCY", "2")
    real, lock = concurrency.run_tests, threading.Lock()
    running, most = [0], [0]

    def counted(*args: object, **kwargs: object) -> RunReport:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return real(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(concurrency, "run_tests", counted)
    stop, seen = threading.Event(), [0]

    def watch() -> None:  # distinct uids with a live process = children running at once
        while not stop.is_set():
            seen[0] = max(seen[0], len(set(leftovers(list(run_uids)).values())))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    code = "import time\n" + PAIR + "    time.sleep(0.3)\n    return [0, 1]\n"

    async def five() -> list[RunReport]:
        runs = [run_tests_async(code, spec(), quick()[:1]) for _ in range(5)]
        return await asyncio.gather(*runs)

    try:
        began = time.monotonic()
        reports = asyncio.run(five())
        took = time.monotonic() - began
    finally:
        stop.set()
        watcher.join()
    assert [r.passed for r in reports] == [1] * 5
    assert most[0] == 2 and 1 <= seen[0] <= 2
    assert took >= 0.9, "five 0.3 s runs, two at a time, take at least three rounds"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("INTERVIEW_BOT_RUNNER_CONCURRENCY", "0"),
        ("INTERVIEW_BOT_RUNNER_CONCURRENCY", "two"),
        ("INTERVIEW_BOT_RUNNER_CONCURRENCY", "-1"),
        ("INTERVIEW_BOT_RUNNER_UID", "999"),  # a system account's range
        ("INTERVIEW_BOT_RUNNER_UID", str(2**31 - RUNNER_UID_POOL)),  # the pool would overflow
    ],
)
def test_runner_settings_are_validated(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        concurrency.runner_concurrency()


def test_runner_settings_come_from_the_settings_object() -> None:
    given = Settings(runner_concurrency=3, runner_uid=70000)
    assert concurrency.runner_concurrency(given) == 3 and given.runner_uid == 70000
    assert concurrency.runner_concurrency() == 2  # the default


def test_a_uid_held_by_another_process_is_left_alone() -> None:
    if os.geteuid() != 0:
        assert not protections()["unprivileged_user"].active
        return
    import subprocess

    base = uid_pool.uid_base()
    # Hold the lowest free uid, as another app on this machine would while it runs code.
    held = next(
        (uid, fd)
        for uid in range(base, base + RUNNER_UID_POOL)
        if (fd := uid_pool._lock_file(uid)) is not None
    )

    def become() -> None:
        os.setgid(held[0])
        os.setuid(held[0])

    sleeper = subprocess.Popen(["sleep", "30"], preexec_fn=become)
    try:
        uid = uid_pool.POOL.acquire()
        uid_pool.POOL.release(uid)
        assert uid != held[0] and sleeper.poll() is None, "another app's run is not killed"
    finally:
        os.close(held[1])
        sleeper.kill()
        sleeper.wait()
    again = uid_pool._lock_file(held[0])
    assert again is not None, "closing the file released the uid"
    os.close(again)


def test_where_nothing_isolates_serve_and_check_say_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], mini_root: Path
) -> None:
    """A normal user without bubblewrap: rlimits only, and both entry points say it plainly."""
    import json

    from bot.cli import main
    from bot.web import server

    real_which = isolation.shutil.which
    with monkeypatch.context() as machine:  # no bwrap, not root: only while probing
        machine.setattr(
            isolation.shutil,
            "which",
            lambda name, path=None: None if name == "bwrap" else real_which(name, path=path),
        )
        machine.setattr(isolation.os, "geteuid", lambda: 1000)
        probed = isolation._probe()
    assert probed.backend == "rlimits"
    monkeypatch.setattr(isolation, "_PROBED", [probed])

    def execve(*args: object) -> None:
        raise SystemExit(0)

    monkeypatch.setattr(server.os, "execve", execve)
    with pytest.raises(SystemExit):
        server.serve("127.0.0.1", 8000)
    said = capsys.readouterr().out.splitlines()
    assert len(said) == 2 and said[1].startswith("interview-bot: code runner: WARNING: no sandbox")
    assert "bwrap not found" in said[1] and "resource limits only" in said[1]
    args = ["check", "--root", str(mini_root), "--question", "coding-pair-sum-indices", "--json"]
    assert main([*args, "--reference", "--examples-only"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sandbox"] == said[1].removeprefix("interview-bot: ")
    shown = data["protections"]
    for name in ("bubblewrap", "filesystem_allow_list", "pid_namespace", "process_limit"):
        assert shown[name]["active"] is False, name
    assert "bwrap not found" in shown["bubblewrap"]["detail"]
    assert "/proc/<app pid>/environ" in shown["scrubbed_env"]["detail"]


def test_packages_bubblewrap_cannot_bind_are_left_out_not_the_sandbox(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bot.sandbox import allow_list

    locked = tmp_path / "locked"
    (locked / "numpy").mkdir(parents=True)
    locked.chmod(0)  # neither a pool uid nor the app's own user (through bwrap) can reach it
    try:
        unreachable = {"numpy": locked / "numpy"}
        monkeypatch.setattr(allow_list, "package_dirs", lambda: unreachable)
        monkeypatch.setattr(allow_list, "library_dirs", lambda: [])
        monkeypatch.setattr(isolation, "package_dirs", lambda: unreachable)
        probed = isolation._probe()
    finally:
        locked.chmod(0o700)
    assert probed.backend == "bubblewrap" and probed.bubblewrap is not None
    assert probed.bubblewrap.packages == ()
    report = run_tests(PAIR + "    import numpy\n", spec(), quick(), isolation=probed)
    assert "ModuleNotFoundError" in (report.results[0].error or "")
    shown = report.protections["filesystem_allow_list"]
    assert shown["active"] and "no packages (could not bind numpy: bwrap failed" in shown["detail"]


def test_a_run_leaves_its_uid_clean_not_even_a_zombie(run_uids: list[int]) -> None:
    """Nothing of a run waits on the machine's init to be reaped, which would keep the uid busy."""
    report = run_tests(spec().reference_solution, spec(), quick())
    assert report.passed == 2
    if not protections()["unprivileged_user"].active:
        assert run_uids == []
        return
    assert [uid_pool.pids_of(uid, zombies=True) for uid in run_uids] == [[]]
