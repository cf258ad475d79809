"""What every command group shares: the Typer app, the consoles, common options and helpers."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from bot.config import GRADERS_NAMED, get_settings
from bot.content.bank import ContentBank, load_bank_cached
from bot.errors import BotError, public, scrub
from bot.text import ANSWER_CUT, MAX_ANSWER_BYTES, capped_answer, read_answer

if TYPE_CHECKING:
    from bot.store import AttemptStore

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
UserOpt = Annotated[
    str | None,
    typer.Option("--user", help="Whose attempts: a user's name (default: the local user)."),
]


def chosen_user(store: AttemptStore, name: str | None) -> str:
    """The store id of `--user` (the local user without it); an unknown name is an error."""
    from bot.store import LOCAL_USER

    if name is None:
        return LOCAL_USER
    user_id = name.strip().lower()
    store.user(user_id)
    return user_id


def content_bank(root: Path | None) -> ContentBank:
    return load_bank_cached((root or get_settings().content_dir).resolve())


def print_json(data: Any) -> None:
    """Strict JSON (no NaN or Infinity) with secrets scrubbed; characters a terminal would act
    on are escaped even where JSON allows them raw."""
    text = json.dumps(public(data), indent=2, ensure_ascii=False, allow_nan=False)
    sys.stdout.write(_TERMINAL_ACTIVE.sub(lambda m: f"\\u{ord(m[0]):04x}", text) + "\n")


# Escape sequences (CSI, OSC and two-character ones), then any other control character but
# newline and tab: C0, DEL, C1, and the bidirectional overrides that reorder a line on screen.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?|\x9b[0-?]*[ -/]*[@-~]?"
)
_TERMINAL_ACTIVE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def read_stdin() -> str:
    """Standard input as text, up to the answer cap (past it: cut, and said on stderr); bytes
    that are not UTF-8 are a BotError, not a crash."""
    if not hasattr(sys.stdin, "buffer"):  # a text stream (tests): no bytes to decode
        text, cut = capped_answer(sys.stdin.read(MAX_ANSWER_BYTES + 1))
    else:
        try:
            text, cut = read_answer(sys.stdin.buffer)
        except UnicodeDecodeError as error:
            bad = error.object[error.start : error.start + 1].hex()
            raise BotError(
                f"standard input is not UTF-8 text (byte 0x{bad} at offset {error.start})"
            ) from None
    if cut:
        err.print(escape(ANSWER_CUT))
    return text


def shown(text: str) -> str:
    """Text from outside the program (code output, answers, test names, grades, files) made
    safe to print: secrets scrubbed, escape sequences and control characters removed."""
    text = scrub(text, limit=None).replace("\r\n", "\n")
    return _TERMINAL_ACTIVE.sub("", _ESCAPES.sub("", text))
