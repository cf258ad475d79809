"""scripts/system-packages.sh against fake dpkg, id, apt-get and python3 on a PATH of shims."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "system-packages.sh"
BASH = shutil.which("bash") or "/bin/bash"
EVERYTHING = "make postgresql chromium nginx python3 python3-venv bubblewrap"

# Each shim is a tiny sh script run by absolute path; it reads its behaviour from the environment.
SHIMS = {
    "dpkg": """
case " $FAKE_INSTALLED " in *" $2 "*) echo "Package: $2"; echo "Status: install ok installed";;
  *) case " $FAKE_CONFIG_ONLY " in *" $2 "*) echo "Status: deinstall ok config-files";;
     *) echo "dpkg-query: package '$2' is not installed" >&2; exit 1;; esac;; esac
""",
    "id": 'echo "$FAKE_UID"\n',
    "apt-get": """
echo "$*" >> "$FAKE_APT_LOG"
if [ "$1" = update ]; then : > "$FAKE_APT_LOG.updated"; exit 0; fi
[ -z "$FAKE_APT_NEEDS_UPDATE" ] || [ -e "$FAKE_APT_LOG.updated" ]
""",
    "python3": 'exit "$FAKE_PYTHON_EXIT"\n',
}


@dataclass
class Machine:
    """A fake Debian machine: which packages dpkg knows, who we are, whether apt-get exists."""

    shims: Path
    installed: str = EVERYTHING
    config_only: str = ""
    uid: int = 1000
    python_ok: bool = True
    apt_needs_update: bool = False

    @property
    def apt_log(self) -> Path:
        return self.shims / "apt.log"

    def without(self, tool: str) -> Machine:
        (self.shims / tool).unlink()
        return self

    def with_bwrap(self) -> Machine:
        """A bwrap on PATH, as another distribution's package would put it there."""
        (self.shims / "bwrap").write_text("#!/bin/sh\nexit 0\n")
        (self.shims / "bwrap").chmod(0o755)
        return self

    def env(self, path: str) -> dict[str, str]:
        return {
            "PATH": path,
            "FAKE_INSTALLED": self.installed,
            "FAKE_CONFIG_ONLY": self.config_only,
            "FAKE_UID": str(self.uid),
            "FAKE_PYTHON_EXIT": "0" if self.python_ok else "1",
            "FAKE_APT_LOG": str(self.apt_log),
            "FAKE_APT_NEEDS_UPDATE": "1" if self.apt_needs_update else "",
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [BASH, str(SCRIPT), *args],
            env=self.env(str(self.shims)),  # the shims only: no real dpkg or apt-get is reachable
            capture_output=True,
            text=True,
            timeout=30,
        )

    def apt_calls(self) -> list[str]:
        return self.apt_log.read_text().splitlines() if self.apt_log.exists() else []


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    shims = tmp_path / "shims"
    shims.mkdir()
    for name, body in SHIMS.items():
        (shims / name).write_text("#!/bin/sh\n" + body)
        (shims / name).chmod(0o755)
    return Machine(shims)


@pytest.mark.parametrize("target", ["test", "run"])
def test_everything_present_is_a_silent_no_op(machine: Machine, target: str) -> None:
    machine.uid = 0
    done = machine.run("--dry-run", target)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    done = machine.run(target)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert machine.apt_calls() == []


def test_run_needs_nothing_but_a_good_python_and_bwrap(machine: Machine) -> None:
    machine.installed = ""
    done = machine.with_bwrap().without("dpkg").run("run")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_run_without_bubblewrap_asks_for_it(machine: Machine) -> None:
    machine.installed = "python3 python3-venv"
    done = machine.run("--dry-run", "run")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == "  sudo apt-get install -y bubblewrap"
    done = machine.without("dpkg").run("run")
    assert (
        done.returncode == 1 and "equivalents of these Debian packages: bubblewrap" in done.stderr
    )


def test_missing_as_non_root_stops_with_the_exact_command(machine: Machine) -> None:
    machine.installed = "make python3 python3-venv bubblewrap"
    done = machine.run("--dry-run", "test")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines()[-1] == "  sudo apt-get install -y postgresql chromium nginx"
    assert machine.apt_calls() == []


def test_missing_as_root_with_apt_prints_the_install_it_would_run(machine: Machine) -> None:
    machine.installed, machine.uid = "make python3 python3-venv bubblewrap", 0
    done = machine.run("--dry-run", "test")
    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == (
        "would run: DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql chromium nginx"
    )
    assert machine.apt_calls() == []


def test_missing_as_root_without_apt_gives_the_command_without_sudo(machine: Machine) -> None:
    machine.installed, machine.uid = "make postgresql nginx python3 python3-venv bubblewrap", 0
    done = machine.without("apt-get").run("--dry-run", "test")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == "  apt-get install -y chromium"


@pytest.mark.parametrize(
    ("needs_update", "calls"),
    [
        (False, ["install -y -qq chromium"]),
        (True, ["install -y -qq chromium", "update -qq", "install -y -qq chromium"]),
    ],
    ids=["lists-present", "fresh-image"],
)
def test_root_installs_and_updates_apt_only_when_needed(
    machine: Machine, needs_update: bool, calls: list[str]
) -> None:
    machine.installed, machine.uid = "make postgresql nginx python3 python3-venv bubblewrap", 0
    machine.apt_needs_update = needs_update
    done = machine.run("test")
    assert done.returncode == 0, done.stderr
    assert machine.apt_calls() == calls


def test_a_package_with_only_its_config_files_left_is_missing(machine: Machine) -> None:
    machine.installed, machine.config_only = (
        "make postgresql nginx python3 python3-venv bubblewrap",
        "chromium",
    )
    done = machine.run("--dry-run", "test")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == "  sudo apt-get install -y chromium"


def test_run_without_a_usable_python_asks_for_debians(machine: Machine) -> None:
    machine.installed, machine.python_ok = "python3 bubblewrap", False
    done = machine.run("--dry-run", "run")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == "  sudo apt-get install -y python3-venv"


def test_unknown_target_is_a_usage_error(machine: Machine) -> None:
    done = machine.run("serve")
    assert done.returncode == 2 and "usage:" in done.stderr


def test_make_test_stops_before_pip(machine: Machine, tmp_path: Path) -> None:
    """The check runs first: a missing package stops `make test` before the venv is created."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "Makefile", repo)
    shutil.copy(SCRIPT, repo / "scripts")
    for name in ("requirements.lock", "pyproject.toml"):
        (repo / name).write_text("")
    machine.installed = "make postgresql nginx python3 python3-venv bubblewrap"
    done = subprocess.run(
        ["make", "-C", str(repo), "test"],
        env=machine.env(f"{machine.shims}:/usr/bin:/bin"),  # shims first, then make and bash
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "  sudo apt-get install -y chromium" in done.stderr.splitlines()
    assert not (repo / ".venv").exists()
