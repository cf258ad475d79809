"""The deploy/ layout started locally: a throwaway PostgreSQL, an optional Chroma server, N app
instances (`interview-bot serve --port`, one Chainlit process each) and nginx on loopback in
front of them, with the site config `interview-bot proxy-config` writes.

For bench/cluster.py and tests/test_cluster.py. Every process is this one's child and is stopped
when the `with` block ends; `kill(i)` sends SIGKILL to instance i, as a crash would.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_SECONDS = 120.0  # two instances loading their models at once on a busy 2-core machine
NGINX_MAIN = """\
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format routes '$ib_route|$upstream_addr|$status|$request_uri';
    access_log {root}/access.log routes;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    include site.conf;
}}
"""


class StackError(RuntimeError):
    """A part of the stack did not start; the message carries its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackError(f"exited ({proc.returncode}):\n{_tail(log)}")
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise StackError(f"did not listen on {port} within {seconds:.0f} s:\n{_tail(log)}")


def _wait_for_page(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackError(f"{url} exited ({proc.returncode}):\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise StackError(f"{url} did not answer within {seconds:.0f} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"


@dataclass
class Instance:
    port: int
    data_dir: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class Stack:
    """`with Stack(workdir, database_url=...) as stack:` ... `stack.url` is nginx's address."""

    workdir: Path
    database_url: str
    instances: int = 2
    chroma: bool = False
    env: dict[str, str] = field(default_factory=dict)  # extra settings for every instance
    nginx_port: int = 0
    chroma_port: int = 0
    apps: list[Instance] = field(default_factory=list)
    _procs: ExitStack = field(default_factory=ExitStack)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.nginx_port}"

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self._procs.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._procs.close()

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.nginx_port = free_port()
        if self.chroma:
            self._start_chroma()
        self.apps = [
            Instance(free_port(), self.workdir / f"app{n}", self.workdir / f"app{n}.log")
            for n in range(1, self.instances + 1)
        ]
        shared = self._shared_env()
        for app in self.apps:  # all at once, as a deployment would: they share the cores
            self._start_app(app, shared)
        self._start_nginx()
        for app in self.apps:
            assert app.proc is not None
            _wait_for_page(f"http://{HOST}:{app.port}/", app.proc, app.log, START_SECONDS)

    # -- the parts ------------------------------------------------------------------------------

    def _spawn(
        self, args: list[str], log: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        sink = self._procs.enter_context(log.open("wb"))
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._procs.callback(_stop, proc)
        return proc

    def _start_chroma(self) -> None:
        self.chroma_port = free_port()
        path = self.workdir / "chroma"
        log = self.workdir / "chroma.log"
        exe = str(Path(sys.executable).with_name("chroma"))
        args = [exe, "run", "--path", str(path), "--host", HOST, "--port", str(self.chroma_port)]
        _wait_for_port(self.chroma_port, self._spawn(args, log), log, 60)

    def _shared_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("CHAINLIT_APP_ROOT", None)  # `serve` makes each instance's own in its data dir
        env.update(
            INTERVIEW_BOT_DATABASE_URL=self.database_url,
            INTERVIEW_BOT_PUBLIC_ORIGIN=self.url,
            CHAINLIT_AUTH_SECRET=secrets.token_urlsafe(32),  # one secret: tokens work on all
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        )
        if self.chroma:
            env.update(CHROMA_HOST=HOST, CHROMA_PORT=str(self.chroma_port))
        env.update(self.env)
        return env

    def index(self) -> float:
        """Build the kb index in the Chroma server (once, for every instance); seconds taken."""
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "index"],
            cwd=ROOT,
            env={**self._shared_env(), "INTERVIEW_BOT_DATA_DIR": str(self.workdir / "indexer")},
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - began

    def _start_app(self, app: Instance, shared: dict[str, str]) -> None:
        env = {**shared, "INTERVIEW_BOT_DATA_DIR": str(app.data_dir)}
        args = [sys.executable, "-m", "bot.cli", "serve", "--host", HOST, "--port", str(app.port)]
        app.proc = self._spawn(args, app.log, env)

    def _start_nginx(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.access(nginx, os.X_OK):
            raise StackError("nginx is not installed: apt-get install -y nginx")
        root = self.workdir / "nginx"
        (root / "tmp").mkdir(parents=True, exist_ok=True)
        site = subprocess.run(
            [sys.executable, "-m", "bot.cli", "proxy-config", "--listen",
             f"{HOST}:{self.nginx_port}", *(f"{HOST}:{a.port}" for a in self.apps)],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        (root / "site.conf").write_text(site)
        (root / "nginx.conf").write_text(NGINX_MAIN.format(root=root))
        log = root / "nginx.out"
        proc = self._spawn([nginx, "-p", str(root), "-c", str(root / "nginx.conf")], log)
        _wait_for_port(self.nginx_port, proc, log, 20)

    # -- during a run ---------------------------------------------------------------------------

    def kill(self, index: int) -> None:
        """SIGKILL instance `index`: no shutdown handlers, in-flight requests cut off."""
        proc = self.apps[index].proc
        assert proc is not None
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def routes(self) -> dict[str, int]:
        """Routing cookie -> the instance (index) that last answered a request carrying it,
        from nginx's access log (a request retried elsewhere names every upstream it tried)."""
        found: dict[str, int] = {}
        ports = {app.port: n for n, app in enumerate(self.apps)}
        for line in (self.workdir / "nginx" / "access.log").read_text().splitlines():
            route, upstreams, *_ = line.split("|")
            last = upstreams.split(",")[-1].strip().rsplit(":", 1)[-1]
            if last.isdigit() and int(last) in ports:
                found[route] = ports[int(last)]
        return found


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
