"""`interview-bot serve`: prepare Chainlit's app root in the data dir and start the app; and the
guard that lets only the served origin talk to it.

Chainlit reads its config, `chainlit.md` and custom elements from an app root and writes
uploads there, so the app root lives in the data dir (never in the source tree) and is refreshed
at every start: the config (its `allow_origins` set to the served origin) and custom elements
from bot/web/assets, the welcome page from the content dir's `chainlit.md` (the repository's
when the content dir has none).

A browser sends every page's requests to the app, whichever site the page came from, and DNS
rebinding can point another name at 127.0.0.1. So every HTTP request and websocket (the
socket.io handshake and its upgrade included) must name an allowed Host, and an Origin, when the
browser sends one, that is allowed too; anything else gets 403 before Chainlit sees it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from bot.config import PROJECT_ROOT, SERVE_HOST, SERVE_PORT, get_settings, private_dir
from bot.content.bank import load_bank_cached
from bot.sandbox import summary as sandbox_summary

ASSETS = Path(__file__).parent / "assets"
APP = Path(__file__).parent / "app.py"
WELCOME = "chainlit.md"  # Chainlit's name for the welcome page, at the root of an app
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
ANY_INTERFACE = ("0.0.0.0", "::", "[::]")
ALLOW_ORIGINS = "allow_origins = "  # the line of the asset config that is written per start
# The line under the message box (Chainlit's "LLMs can make mistakes"), true to the grader in use.
FOOTER_OFFLINE = (
    "Scored offline: key points said in your words, red flags and contradictions. It does not "
    "judge reasoning as an LLM grader can (see the README to configure one)."
)
FOOTER_LLM = "Graded by an LLM against the rubric's key points: it can still make mistakes."


def allowed_origins(host: str, port: int, public: str | None = None) -> list[str]:
    """The origins a browser may use: loopback names and `host` on `port`, and `public`."""
    named = host if ":" not in host or host.startswith("[") else f"[{host}]"
    names = [*LOOPBACK, *([named] if named not in (*LOOPBACK, *ANY_INTERFACE) else [])]
    return [f"http://{name}:{port}" for name in names] + ([public] if public else [])


class OriginGuard:
    """ASGI middleware: 403 for a request or websocket whose Host or Origin is not allowed."""

    def __init__(self, app: ASGIApp, *, origins: Iterable[str]) -> None:
        self.app = app
        self.origins = {o.lower().rstrip("/") for o in origins}
        self.hosts = {o.split("://", 1)[1] for o in self.origins}

    def permits(self, headers: dict[bytes, bytes]) -> bool:
        host = headers.get(b"host", b"").decode("latin-1").lower()
        origin = headers.get(b"origin")
        if host not in self.hosts:
            return False
        return origin is None or origin.decode("latin-1").lower() in self.origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.permits(dict(scope["headers"])):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
        else:
            await _forbidden(send)


async def _forbidden(send: Send) -> None:
    body = b"Forbidden: this app answers only pages from its own origin.\n"
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"%d" % len(body)),
    ]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def prepare_app_root(
    root: Path,
    *,
    host: str = SERVE_HOST,
    port: int = SERVE_PORT,
    content_dir: Path | None = None,
) -> Path:
    """Copy the config (allowing the origins served on `host`:`port`), the welcome page and the
    custom elements into `root`."""
    (root / ".chainlit").mkdir(parents=True, exist_ok=True)
    origins = allowed_origins(host, port, get_settings().public_origin)
    config = (ASSETS / "config.toml").read_text(encoding="utf-8").splitlines(keepends=True)
    config = [
        ALLOW_ORIGINS + json.dumps(origins) + "\n" if line.startswith(ALLOW_ORIGINS) else line
        for line in config
    ]
    (root / ".chainlit" / "config.toml").write_text("".join(config), encoding="utf-8")
    shutil.copyfile(welcome_page(content_dir or get_settings().content_dir), root / WELCOME)
    shutil.copytree(ASSETS / "public", root / "public", dirs_exist_ok=True)
    _write_footer(root / ".chainlit" / "translations" / "en-US.json")
    return root


def _write_footer(path: Path) -> None:
    """Chainlit's English texts with the footer saying which grader scores the answers."""
    from bot.grading.graders import resolve_choice

    spec = importlib.util.find_spec("chainlit")  # not imported: that writes into the app root
    assert spec is not None and spec.submodule_search_locations
    packaged = Path(spec.submodule_search_locations[0]) / "translations" / path.name
    texts = json.loads(packaged.read_text(encoding="utf-8"))
    offline = resolve_choice(get_settings(), "auto") == "offline"
    texts["chat"]["watermark"] = FOOTER_OFFLINE if offline else FOOTER_LLM
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(texts, indent=2, ensure_ascii=False), encoding="utf-8")


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
    web = private_dir(settings.data_dir) / "web"
    web.mkdir(exist_ok=True)
    os.environ["CHAINLIT_APP_ROOT"] = str(web)  # importing Chainlit (for its login) writes there
    from bot.web.auth import refuse_open_without_login

    refuse_open_without_login(host, settings)
    load_bank_cached(settings.content_dir.resolve())  # a content error stops here, with its line
    root = prepare_app_root(
        web,
        host=host,
        port=port,
        content_dir=settings.content_dir,
    )
    print(f"interview-bot: http://{host}:{port} (data in {settings.data_dir})", flush=True)
    print(f"interview-bot: {sandbox_summary()}", flush=True)  # says so when code runs unconfined
    os.execve(sys.executable, command(host, port), server_env(root))


def guard_chainlit() -> None:
    """Put an OriginGuard in front of Chainlit's app, for the host and port it serves on.

    Called when `chainlit run` imports the app module: after its options are read, before the
    server starts (Starlette takes no middleware once it has).
    """
    from chainlit.config import config
    from chainlit.server import app

    from bot.web.auth import refuse_open_without_login

    refuse_open_without_login(config.run.host, get_settings())  # also when run by `chainlit run`
    origins = allowed_origins(config.run.host, config.run.port, get_settings().public_origin)
    app.add_middleware(OriginGuard, origins=origins)
