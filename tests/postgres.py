"""A real PostgreSQL server for the tests: the one named by INTERVIEW_BOT_TEST_POSTGRES_URL, or a
throwaway cluster started from the installed server binaries (`apt-get install postgresql`).

Fixtures (import them into a test module to use them):

- `postgres_url` (session): a URL whose user may CREATE DATABASE and CREATE ROLE.
- `postgres_database_url` (function): a new, empty database on that server, dropped afterwards,
  so no test sees another test's rows.

The throwaway cluster lives in a temporary directory: `initdb` there (as the `postgres` system
user when the tests run as root, since PostgreSQL refuses to run as root), listen on 127.0.0.1 on
a free port and on a unix socket in the same directory, trust the `postgres` superuser and ask
every other role for its password (so wrong passwords are really refused). It is stopped and
deleted at the end of the session. With no server binaries the fixture fails, it never skips.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

ENV_URL = "INTERVIEW_BOT_TEST_POSTGRES_URL"
SERVER_USER = "postgres"  # the system user the Debian package creates, and our superuser role
BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_ATTEMPTS = 3  # a free port can be taken by someone else between finding it and binding it
INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found under "
    f"{BIN_GLOB} nor on PATH. Install them with `apt-get install -y postgresql` "
    "(.ci/run does), or set INTERVIEW_BOT_TEST_POSTGRES_URL to a server whose user may "
    "CREATE DATABASE and CREATE ROLE."
)


def find_server_bin_dir() -> Path | None:
    """The newest PostgreSQL bin dir with both initdb and pg_ctl, or None."""

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)

    for candidate in sorted(glob.glob(BIN_GLOB), key=version, reverse=True):
        if all(os.access(Path(candidate, tool), os.X_OK) for tool in ("initdb", "pg_ctl")):
            return Path(candidate)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A PostgreSQL cluster in a temporary directory, run by a non-root user."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.run_as: dict[str, Any] = {}  # subprocess.run arguments that drop root
        account = None
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(SERVER_USER)
            except KeyError:
                pytest.fail(
                    f"running as root, but there is no '{SERVER_USER}' system user to run "
                    f"PostgreSQL as (root may not). {INSTALL_HINT}",
                    pytrace=False,
                )
            self.run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        self.root = Path(tempfile.mkdtemp(prefix="interview-bot-pg-", dir=self._temp_parent()))
        if account is not None:
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0

    @staticmethod
    def _temp_parent() -> str:
        """The temp dir, unless the `postgres` user could not reach into it (then /tmp)."""
        parent = tempfile.gettempdir()
        if os.geteuid() != 0:
            return parent
        path = Path(parent).resolve()
        for part in [path, *path.parents]:
            if not os.stat(part).st_mode & 0o001:  # others may not traverse it
                return "/tmp"
        return parent

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C",
            "HOME": str(self.root),
        }
        return subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **self.run_as,
        )

    def _fail(self, what: str, result: subprocess.CompletedProcess[str]) -> None:
        log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
        pytest.fail(
            f"{what} failed (exit {result.returncode}) using {self.bin_dir}:\n"
            f"{result.stdout}{result.stderr}{log}",
            pytrace=False,
        )

    def init(self) -> None:
        result = self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            SERVER_USER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        if result.returncode != 0:
            self._fail("initdb", result)
        # Only the superuser is trusted; every other role must give its real password.
        (self.data / "pg_hba.conf").write_text(
            f"local all {SERVER_USER} trust\n"
            f"host all {SERVER_USER} 127.0.0.1/32 trust\n"
            "local all all scram-sha-256\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )

    def start(self) -> None:
        for attempt in range(START_ATTEMPTS):
            self.port = free_port()
            settings = {
                "listen_addresses": "'127.0.0.1'",
                "port": str(self.port),
                "unix_socket_directories": f"'{self.root}'",
                "fsync": "off",  # a throwaway cluster: speed over durability
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "max_connections": "100",
            }
            with open(self.data / "postgresql.auto.conf", "w") as conf:
                conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
            result = self._run(
                "pg_ctl", "--pgdata", str(self.data), "--log", str(self.log), "--wait",
                "--timeout", "60", "start",
            )  # fmt: skip
            if result.returncode == 0:
                return
            if attempt == START_ATTEMPTS - 1:
                self._fail("pg_ctl start", result)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "--pgdata", str(self.data), "--mode", "fast", "--wait", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/postgres"


def normalised(url: str) -> sa.URL:
    """The URL with the psycopg 3 driver, whatever driver (if any) it named."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        pytest.fail(f"{ENV_URL} must be a postgresql:// URL, got {parsed!r}", pytrace=False)
    return parsed.set(drivername="postgresql+psycopg")


def admin_engine(url: str) -> sa.Engine:
    """An engine for CREATE/DROP DATABASE and roles (which cannot run in a transaction)."""
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server URL: INTERVIEW_BOT_TEST_POSTGRES_URL, or a cluster started here."""
    external = os.environ.get(ENV_URL)
    if external:
        yield normalised(external).render_as_string(hide_password=False)
        return
    bin_dir = find_server_bin_dir()
    if bin_dir is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    cluster = Cluster(bin_dir)
    try:
        cluster.init()
        cluster.start()
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def postgres_database_url(postgres_url: str) -> Iterator[str]:
    """A new empty database on the server, dropped (with any open connections) afterwards."""
    name = f"interview_bot_test_{uuid.uuid4().hex[:12]}"
    engine = admin_engine(postgres_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
