"""Command line: `interview-bot COMMAND`. BotError becomes a clear message and exit code.

One module per command group; importing them registers their commands on the shared Typer app.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from bot import __version__
from bot.cli.common import app, err, out, shown
from bot.errors import BotError

# isort: off
# Importing a group registers its commands; this order is the order of `--help`.
from bot.cli import content, code, grading, history, knowledge, server, users  # noqa: F401
# isort: on

__all__ = ["app", "main"]


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if version:
        out.print(f"interview-bot {__version__}")
        raise typer.Exit()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run a command, turning BotError into a message and an exit code."""
    try:
        result = app(args=argv, standalone_mode=False)
    except BotError as error:
        err.print("[red]error:[/red] " + escape(shown(str(error))), highlight=False)
        return error.exit_code
    except typer.Exit as done:
        return done.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        return 130
    except Exception as error:  # click usage errors and the like
        import click

        if isinstance(error, click.ClickException):
            error.show()
            return error.exit_code
        raise
    return result if isinstance(result, int) else 0
