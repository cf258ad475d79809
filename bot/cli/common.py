"""What every command group shares: the Typer app, the consoles, common options and helpers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from bot.config import GRADERS_NAMED, get_settings
from bot.content import load_bank
from bot.content.bank import ContentBank

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="interview-bot: practise software and GenAI-engineer interviews, offline.",
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

RootOpt = Annotated[
    Path | None, typer.Option("--root", help="Content root (default: the configured one).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
GraderOpt = Annotated[str, typer.Option("--grader", help=GRADERS_NAMED)]


def content_bank(root: Path | None) -> ContentBank:
    return load_bank((root or get_settings().content_dir).resolve())


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
