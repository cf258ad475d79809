"""Start the real app (`chainlit run`) on a free port and wait until it answers.

For the browser tests, the memory benchmark and the README's screenshots: each gets a server of
its own with a throw-away app root and data dir, and the headless Chromium settings that drive it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.errors import BotError
from bot.web.server import command, prepare_app_root, server_env

HOST = "127.0.0.1"
SOURCE = Path(__file__).resolve().parents[2]  # the checkout this `bot` package is imported from
START_SECONDS = 90.0  # model loading on a busy 2-core machine
CHROMIUM = "/usr/bin/chromium"  # Debian's (`apt-get install chromium`); no browser is downloaded
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class RunningApp:
    url: str
    data_dir: Path
    pid: int
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def running_app(
    workdir: Path, *, data_dir: Path | None = None, port: int | None = None
) -> Iterator[RunningApp]:
    """The app serving from `workdir` (app root, server log) until the block ends.

    The data dir is `data_dir`, or `workdir/data`; the port `port` (a restart keeps the
    browser's page), or a free one. Raises BotError with the server's log when it exits or
    does not answer within START_SECONDS.
    """
    data = data_dir or workdir / "data"
    port = port or free_port()
    env = server_env(prepare_app_root(workdir / "web", host=HOST, port=port))
    env["INTERVIEW_BOT_DATA_DIR"] = str(data)
    # the server imports the same `bot` as the caller, not whichever one is installed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE), env.get("PYTHONPATH")]))
    log = workdir / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(command(HOST, port), env=env, stdout=sink, stderr=subprocess.STDOUT)
        app = RunningApp(f"http://{HOST}:{port}", data, proc.pid, log)
        try:
            _wait_until_up(app, proc)
            yield app
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _wait_until_up(app: RunningApp, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BotError("the server exited:\n" + app.log.read_text(errors="replace"))
        try:
            with urllib.request.urlopen(app.url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise BotError(
        f"the server did not answer in {START_SECONDS:.0f} s:\n"
        + app.log.read_text(errors="replace")
    )
