"""serve: the browser app."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import app
from bot.config import SERVE_HOST, SERVE_PORT


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = SERVE_HOST,
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = SERVE_PORT,
) -> None:
    """Start the browser app (Chainlit) on http://HOST:PORT.

    Browsers may reach it at loopback names on PORT (127.0.0.1, localhost, [::1]), at HOST:PORT,
    and at INTERVIEW_BOT_PUBLIC_ORIGIN when set; a page from any other origin is refused.
    """
    from bot.web.server import serve as run_server

    run_server(host, port)


@app.command("proxy-config")
def proxy_config(
    instances: Annotated[
        list[str], typer.Argument(help="App instances, host:port each (`serve --port` on each).")
    ],
    listen: Annotated[str, typer.Option("--listen", help="What nginx listens on.")] = "80",
) -> None:
    """Print an nginx site config that spreads browsers over INSTANCES, each kept on one.

    Start every instance with INTERVIEW_BOT_PUBLIC_ORIGIN set to the address browsers use, the
    same INTERVIEW_BOT_DATABASE_URL (PostgreSQL), CHROMA_HOST and CHAINLIT_AUTH_SECRET.
    """
    from bot.web.proxy import site_config

    typer.echo(site_config(instances, listen=listen), nl=False)
