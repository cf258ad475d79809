"""Hostile submissions against the real sandbox (issue #21), as root and as an unprivileged user.

Each attack runs through the runner in a subprocess that plays the app: its environment holds the
API key, its working directory is a project with a `.env`, a data directory, a `.git` and a
question bank, all holding the secret. As root the subprocess is started directly; as a normal
user it runs under `setpriv` as nobody (65534), the way a laptop's `make run` would, and owns the
project. Nothing is mocked: these are bubblewrap's namespaces and mounts as the machine gives them.

The app's interpreter for nobody: the venv's python may live where nobody cannot read (pyenv under
/root), so the first interpreter of the same Python version that nobody can run is used, with this
checkout and the venv's site-packages on PYTHONPATH (see `nobody_python`).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.content import CodingSpec, Question
from bot.sandbox import Limits, run_tests

SECRET = f"sk-attack-{uuid.uuid4().hex}"
NOBODY = 65534
MODES = ["root", "nobody"]
PAIR = "def pair_sum_indices(nums, target):\n"
# What the allow-list view may hold at its top level (the symlinks of a merged /usr included).
VIEW_TOP = frozenset(
    ("usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "opt", "tmp", "proc", "dev")
)
FORBIDDEN = (".git", ".env", "question_bank", "site-packages", "dist-packages")

RUNNER = """
import json, sys
from bot.content import CodeTest, CodingSpec
from bot.sandbox import Limits, run_tests
job = json.loads(sys.stdin.read())
spec = CodingSpec.model_validate(job["spec"])
tests = [CodeTest.model_validate(t) for t in job["tests"]]
report = run_tests(job["code"], spec, tests, limits=Limits(**job["limits"]))
print(json.dumps(report.to_dict()))
"""


@dataclass(frozen=True)
class Project:
    """The app's own project directory, with the secret in every place the code should not reach."""

    root: Path

    @property
    def places(self) -> list[Path]:
        return [
            self.root / ".env",
            self.root / "data" / "history.sqlite3",
            self.root / ".git" / "config",
            self.root / "question_bank" / "coding" / "coding-pair-sum-indices.yaml",
        ]


@pytest.fixture(scope="module")
def project() -> Iterator[Project]:
    root = Path(tempfile.mkdtemp(prefix="ib-attack-"))  # /tmp: a path nobody can reach
    made = Project(root)
    for place in made.places:
        place.parent.mkdir(parents=True, exist_ok=True)
        place.write_text(f"OPENAI_API_KEY={SECRET}\n")
    for path in [root, *root.rglob("*")]:  # the app's user owns its project
        os.chown(path, NOBODY, NOBODY)
    yield made
    shutil.rmtree(root)


def spec() -> CodingSpec:
    path = PROJECT_ROOT / "question_bank/coding/coding-pair-sum-indices.yaml"
    coding = Question.model_validate(yaml.safe_load(path.read_text())).coding
    assert coding is not None
    return coding


def app_env(project: Project, python_path: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(project.root),
        "OPENAI_API_KEY": SECRET,
        "INTERVIEW_BOT_DATA_DIR": str(project.root / "data"),
        "PYTHONPATH": python_path,
    }


def site_packages() -> str:
    return sysconfig.get_path("purelib")


@functools.cache
def nobody_python() -> str:
    """An interpreter of this Python version that nobody can run with this checkout's imports."""
    name = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    found = [sys.executable, os.path.realpath(sys.executable), getattr(sys, "_base_executable", "")]
    found += [shutil.which(name, path="/usr/local/bin:/usr/bin:/bin") or ""]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{PROJECT_ROOT}:{site_packages()}"}
    for python in dict.fromkeys(p for p in found if p):
        check = [*as_nobody(), python, "-c", "import bot.sandbox, pydantic, yaml"]
        if subprocess.run(check, env=env, capture_output=True, timeout=60).returncode == 0:
            return python
    pytest.fail(
        f"no interpreter among {found} that nobody can run with {PROJECT_ROOT} and "
        f"{site_packages()} readable: make both readable by others"
    )


def as_nobody() -> list[str]:
    """The command prefix that runs as nobody. setpriv keeps root's capabilities until its own
    exec, so it could start an interpreter nobody cannot reach; env, started first, cannot."""
    setpriv, env = (shutil.which(t, path="/usr/bin:/bin") for t in ("setpriv", "env"))
    assert setpriv and env, "setpriv (util-linux) and env are needed to run as another user"
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", env]


def attack(
    mode: str, project: Project, code: str, *, seconds: float = 5.0
) -> tuple[int, dict[str, Any] | None]:
    """Run `code` against the two examples as the app would in `mode`: (exit code, report)."""
    coding = spec()
    tests = [t.model_copy(update={"time_limit_s": seconds}) for t in coding.examples]
    job = {
        "code": code,
        "spec": coding.model_dump(mode="json"),
        "tests": [t.model_dump(mode="json") for t in tests],
        "limits": {},
    }
    if mode == "root":
        argv, path = [sys.executable], str(PROJECT_ROOT)
    else:
        argv, path = [*as_nobody(), nobody_python()], f"{PROJECT_ROOT}:{site_packages()}"
    done = subprocess.run(
        [*argv, "-c", RUNNER],
        input=json.dumps(job),
        env=app_env(project, path),
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = done.stdout.strip().splitlines()
    return done.returncode, (json.loads(lines[-1]) if done.returncode == 0 and lines else None)


def returned(mode: str, project: Project, body: str) -> list[str]:
    """What the code's `found` list held at the end of the first test (its first items)."""
    code = f"import ctypes, os, socket, time\nSECRET = {SECRET!r}\n" + PAIR + "    found = []\n"
    code += body + "    return [f[:60] for f in found[:4]]\n"  # the report keeps 300 characters
    status, report = attack(mode, project, code)
    assert status == 0 and report is not None, f"the app died (exit code {status})"
    first = report["results"][0]
    assert first["status"] == "failed", first  # ran to the end and returned `found`
    value = eval(first["actual"])  # noqa: S307 - the repr of a list of strings, from our own code
    assert isinstance(value, list)
    return value


def found_secrets(paths: list[str]) -> str:
    """Code that appends every path in `paths` it can read the secret from, or list."""
    return (
        f"    for path in {paths!r}:\n"
        "        try:\n"
        "            if os.path.isdir(path):\n"
        "                found.append('listed ' + path + ': ' + ','.join(os.listdir(path)))\n"
        "            elif SECRET in open(path, errors='replace').read():\n"
        "                found.append('read ' + path)\n"
        "        except OSError:\n"
        "            pass\n"
    )


@pytest.mark.parametrize("mode", MODES)
def test_the_apps_environment_is_out_of_reach(mode: str, project: Project) -> None:
    scan = (
        "    for pid in [os.getppid()] + [p for p in os.listdir('/proc') if p.isdigit()]:\n"
        "        for part in ('environ', 'cmdline'):\n"
        "            try:\n"
        "                if SECRET.encode() in open(f'/proc/{pid}/{part}', 'rb').read():\n"
        "                    found.append(f'{pid}/{part}')\n"
        "            except OSError:\n"
        "                pass\n"
        "    if 'OPENAI_API_KEY' in os.environ:\n"
        "        found.append('own environment')\n"
    )
    assert returned(mode, project, scan) == []


@pytest.mark.parametrize("mode", MODES)
def test_the_projects_env_file_and_data_dir_are_out_of_reach(mode: str, project: Project) -> None:
    paths = [str(p) for p in project.places] + [str(project.root / "data"), str(project.root)]
    assert returned(mode, project, found_secrets(paths)) == []


@pytest.mark.parametrize("mode", MODES)
def test_other_checkouts_and_git_are_out_of_reach(mode: str, project: Project) -> None:
    common = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--path-format=absolute", "--git-common-dir"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    bank = "question_bank/coding/coding-pair-sum-indices.yaml"
    paths = [
        str(PROJECT_ROOT / bank),
        str(PROJECT_ROOT / ".git"),
        str(Path(common) / "HEAD"),
        str(Path(common).parent / bank),  # the main checkout, when this is a worktree
        str(Path(common).parent / "question_bank"),
    ]
    body = found_secrets(paths).replace(
        "elif SECRET in open(path, errors='replace').read():", "elif open(path).read(1):"
    )
    assert returned(mode, project, body) == []


@pytest.mark.parametrize("mode", MODES)
def test_the_filesystem_holds_only_the_allow_list(mode: str, project: Project) -> None:
    walk = (
        f"    found += ['top: ' + n for n in sorted(set(os.listdir('/')) - {VIEW_TOP!r})]\n"
        "    found += ['missing ' + n for n in ('/usr', '/tmp') if not os.path.isdir(n)]\n"
        "    for top, dirs, files in os.walk('/'):\n"
        "        if top in ('/proc', '/dev'):\n"
        "            dirs[:] = []\n"
        "        for name in dirs + files:\n"
        f"            if name in {FORBIDDEN!r}:\n"
        "                path = os.path.join(top, name)\n"
        "                if not os.path.isdir(path) or os.listdir(path):\n"
        "                    found.append('!' + path)\n"
    )
    assert returned(mode, project, walk) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("target", ["os.getppid()", "-1"])
def test_the_app_cannot_be_killed(mode: str, target: str, project: Project) -> None:
    code = (
        "import os\n" + PAIR + "    try:\n"
        f"        os.kill({target}, 9)\n"
        "    except OSError:\n"  # nothing to signal: kill(-1) never signals the caller itself
        "        pass\n"
        "    return [0, 1]\n"
    )
    status, report = attack(mode, project, code)
    assert status == 0, f"the app was killed (exit code {status})"
    assert report is not None and [r["status"] for r in report["results"]] == ["passed", "failed"]


def alive_named(name: str) -> list[str]:
    """Processes on the machine whose command name is `name`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                found.append(pid)
        except OSError:
            continue
    return found


def sleeper(name: str) -> str:
    """Code that leaves a process named `name` behind: forked twice, in a session of its own."""
    return (
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            ctypes.CDLL(None).prctl(15, {name.encode()!r}, 0, 0, 0)\n"  # PR_SET_NAME
        "            time.sleep(120)\n"
        "        os._exit(0)\n"
        "    time.sleep(0.2)\n"
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_double_forked_sleeper_does_not_outlive_the_run(mode: str, project: Project) -> None:
    name = "ib" + uuid.uuid4().hex[:13]  # a command name is at most 15 characters
    assert returned(mode, project, sleeper(name)) == []
    assert alive_named(name) == [], "a process the code started is still running"


@pytest.mark.parametrize("mode", MODES)
def test_a_test_that_hangs_leaves_nothing_running(mode: str, project: Project) -> None:
    name = "ib" + uuid.uuid4().hex[:13]
    code = "import ctypes, os, time\n" + PAIR + sleeper(name) + "    while True:\n        pass\n"
    status, report = attack(mode, project, code, seconds=1.0)
    assert status == 0 and report is not None
    assert [r["status"] for r in report["results"]] == ["timeout", "timeout"]
    assert alive_named(name) == [], "a process the code started is still running"


@pytest.mark.parametrize("mode", MODES)
def test_numpy_imports_and_nothing_else_of_site_packages(mode: str, project: Project) -> None:
    body = (
        "    import numpy\n"  # its vendored OpenBLAS does the inverse
        "    if float(numpy.linalg.inv(numpy.diag([2.0, 4.0])).sum()) != 0.75:\n"
        "        found.append('numpy computed a wrong inverse')\n"
        "    for name in ('yaml', 'pydantic', 'bot'):\n"
        "        try:\n"
        "            __import__(name)\n"
        "            found.append('imported ' + name)\n"
        "        except ImportError:\n"
        "            pass\n"
    )
    assert returned(mode, project, body) == []


@pytest.mark.parametrize("mode", MODES)
def test_new_user_namespaces_are_refused(mode: str, project: Project) -> None:
    body = (
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    if libc.unshare(0x10000000) == 0:\n"  # CLONE_NEWUSER
        "        found.append('unshare(CLONE_NEWUSER) succeeded')\n"
    )
    assert returned(mode, project, body) == []


@pytest.mark.parametrize("mode", MODES)
def test_no_connection_reaches_this_machine(mode: str, project: Project) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.2)
        port = server.getsockname()[1]
        body = (
            "    try:\n"
            f"        socket.create_connection(('127.0.0.1', {port}), 2).close()\n"
            "        found.append('connected')\n"
            "    except OSError:\n"
            "        pass\n"
        )
        result = returned(mode, project, body)
        with pytest.raises(TimeoutError):
            server.accept()[0].close()
    assert result == []


@pytest.mark.parametrize("mode", MODES)
def test_the_report_says_what_holds(mode: str, project: Project) -> None:
    status, report = attack(mode, project, PAIR + "    return [0, 1]\n")
    assert status == 0 and report is not None
    shown = report["protections"]
    for name in ("bubblewrap", "filesystem_allow_list", "pid_namespace", "network_namespace"):
        assert shown[name]["active"] is True, (name, shown[name])
    assert "new user, PID, network, IPC, UTS and cgroup" in shown["bubblewrap"]["detail"]
    assert shown["unprivileged_user"]["active"] is (mode == "root")
    if mode == "nobody":
        assert "needs root" in shown["unprivileged_user"]["detail"]
        assert "allow-listed files" in shown["unprivileged_user"]["detail"]


# --- the result channel: what the code's process sends back is capped ----------------------------

FORGE = (  # a forged result for the first test: ITEMS empty objects, 4 bytes of JSON each
    "import json, os, sys\n" + PAIR + "    record = {'index': 0, 'status': 'returned'}\n"
    "    record['value'] = [{}] * ITEMS\n"
    "    os.write(int(sys.argv[1]), (json.dumps(record) + '\\n').encode())\n"
    "    return [0, 1]\n"
)


def test_a_result_line_over_the_limit_is_cut_off() -> None:
    report = run_tests(FORGE.replace("ITEMS", "300_000"), spec(), spec().examples)
    first = report.results[0]
    assert first.status == "killed"
    assert "over the limit of 1024 KB per result" in (first.error or "")


def test_a_return_value_over_the_limit_is_an_error() -> None:
    code = PAIR + "    return 'x' * 2_000_000\n"
    report = run_tests(code, spec(), spec().examples)
    assert [r.status for r in report.results] == ["error", "error"]
    assert "too large to compare" in (report.results[0].error or "")


def test_results_over_the_run_limit_stop_the_run() -> None:
    coding = spec()
    tests = [*coding.examples, *coding.tests]
    limits = Limits(result_line_bytes=64 * 1024, results_bytes=128 * 1024)
    report = run_tests(PAIR + "    return 'x' * 50_000\n", coding, tests, limits=limits)
    statuses = [r.status for r in report.results]
    assert report.total == len(tests) and statuses[:2] == ["failed", "failed"]
    stopped = statuses.index("killed")
    assert "result limit exceeded" in (report.results[stopped].error or "")
    rest = report.results[stopped + 1 :]
    assert rest and all((r.error or "").startswith("not run: result limit") for r in rest)


MEMORY = """
import json, resource, sys
from bot.content import CodeTest, CodingSpec
from bot.sandbox import isolation, run_tests
job = json.loads(sys.stdin.read())
isolation.machine()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
spec = CodingSpec.model_validate(job["spec"])
run_tests(job["code"], spec, [CodeTest.model_validate(t) for t in job["tests"]])
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_forged_result_lines_do_not_grow_the_apps_memory() -> None:
    """Issue #21: 15 MB of forged lines took the app from 393 MB to 1,640 MB."""
    coding = spec()
    job = {
        "code": FORGE.replace("ITEMS", "3_900_000"),  # 15.6 MB per line, one per process
        "spec": coding.model_dump(mode="json"),
        "tests": [t.model_dump(mode="json") for t in [*coding.examples, *coding.tests]],
    }
    done = subprocess.run(
        [sys.executable, "-c", MEMORY],
        input=json.dumps(job),
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert int(done.stdout.split()[-1]) < 64, "MB the app's peak memory grew during the run"
