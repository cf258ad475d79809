"""`interview-bot serve`: prepare Chainlit's app root in the data dir and start the app.

Chainlit reads its config, `chainlit.md` and custom elements from an app root and writes
uploads there, so the app root lives in the data dir (never in the source tree) and is refreshed
from bot/web/assets at every start.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from bot.config import get_settings
from bot.content import load_bank

ASSETS = Path(__file__).parent / "assets"
APP = Path(__file__).parent / "app.py"


def prepare_app_root(root: Path) -> Path:
    """Copy the config, the welcome page and the custom elements into `root`."""
    (root / ".chainlit").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ASSETS / "config.toml", root / ".chainlit" / "config.toml")
    shutil.copyfile(ASSETS / "chainlit.md", root / "chainlit.md")
    shutil.copytree(ASSETS / "public", root / "public", dirs_exist_ok=True)
    return root


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
    load_bank(settings.content_dir.resolve())  # a content error stops here, with file and line
    root = prepare_app_root(settings.data_dir / "web")
    print(f"interview-bot: http://{host}:{port} (data in {settings.data_dir})", flush=True)
    os.execve(sys.executable, command(host, port), server_env(root))
