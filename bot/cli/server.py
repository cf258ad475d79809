"""serve: the browser app."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import app


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Start the browser app (Chainlit) on http://HOST:PORT."""
    from bot.web.server import serve as run_server

    run_server(host, port)
