"""`interview-bot serve`: prepare Chainlit's app root in the data dir and start the app.

Chainlit reads its config, `chainlit.md` and custom elements from an app root and writes
uploads there, so the app root lives in the data dir (never in the source tree) and is refreshed
at every start: the config and custom elements from bot/web/assets, the welcome page from the
content dir's `chainlit.md` (the repository's when the content dir has none).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT, get_settings, private_dir
from bot.content.bank import load_bank_cached
from bot.sandbox import summary as sandbox_summary

ASSETS = Path(__file__).parent / "assets"
APP = Path(__file__).parent / "app.py"
WELCOME = "chainlit.md"  # Chainlit's name for the welcome page, at the root of an app


def prepare_app_root(root: Path, *, content_dir: Path | None = None) -> Path:
    """Copy the config, the welcome page and the custom elements into `root`."""
    (root / ".chainlit").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ASSETS / "config.toml", root / ".chainlit" / "config.toml")
    shutil.copyfile(welcome_page(content_dir or get_settings().content_dir), root / WELCOME)
    shutil.copytree(ASSETS / "public", root / "public", dirs_exist_ok=True)
    return root


def welcome_page(content_dir: Path) -> Path:
    """The content dir's welcome page, or the repository's when it has none."""
    own = content_dir / WELCOME
    return own if own.is_file() else PROJECT_ROOT / WELCOME


def command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "chainlit",
        "run",
        str(APP),
        "--headless",
        "--host",
        host,
        "--port",
        str(port),
    ]


def server_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["CHAINLIT_APP_ROOT"] = str(root)
    env.setdefault("INTERVIEW_BOT_CONTENT_DIR", str(get_settings().content_dir.resolve()))
    return env


def serve(host: str, port: int) -> None:
    """Check the content, then replace this process with the Chainlit server."""
    settings = get_settings()
    load_bank_cached(settings.content_dir.resolve())  # a content error stops here, with its line
    root = prepare_app_root(
        private_dir(settings.data_dir) / "web", content_dir=settings.content_dir
    )
    print(f"interview-bot: http://{host}:{port} (data in {settings.data_dir})", flush=True)
    print(f"interview-bot: {sandbox_summary()}", flush=True)  # says so when code runs unconfined
    os.execve(sys.executable, command(host, port), server_env(root))
