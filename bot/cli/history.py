"""Your attempts: history and export."""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import (
    JsonOpt,
    RootOpt,
    UserOpt,
    app,
    chosen_user,
    content_bank,
    err,
    out,
    print_json,
    shown,
)
from bot.config import get_settings
from bot.content import COMPETENCIES
from bot.errors import BotError


@app.command()
def history(as_json: JsonOpt = False, user: UserOpt = None) -> None:
    """Your graded attempts: count, mean score and trend per competency."""
    from bot.store import RETRY_AFTER_FEEDBACK, AttemptStore

    with AttemptStore.open(get_settings().effective_database_url) as store:
        user_id = chosen_user(store, user)
        summary = store.summary(user_id)
        attempts = store.attempts(user_id)
    if as_json:
        print_json(
            {
                "competencies": {k: vars(v) for k, v in summary.items()},
                "attempts": [a.to_dict() for a in attempts],
            }
        )
        return
    table = Table("competency", "attempts", "graded", "mean score", "trend (last 5 vs 5 before)")
    for name, row in sorted(summary.items()):
        trend = "-" if row.trend is None else f"{row.trend:+.1f}"
        mean = "-" if row.mean_score is None else f"{row.mean_score:.1f}"
        table.add_row(
            f"{name} {COMPETENCIES.get(name, '')}", str(row.attempts), str(row.graded), mean, trend
        )
    out.print(table)
    for a in attempts[-10:]:
        score = "-" if a.score is None else f"{a.score:.0f}"
        mark = f"  {RETRY_AFTER_FEEDBACK}" if a.seen_key_points else ""
        line = f"{a.created_at:%Y-%m-%d %H:%M}  {a.question_id:<40} {score:>4}{mark}"
        out.print(shown(line), markup=False, highlight=False)


@app.command()
def progress(
    level: Annotated[
        str, typer.Option("--level", help="Target level: junior, mid, senior or staff.")
    ] = "mid",
    as_json: JsonOpt = False,
    user: UserOpt = None,
) -> None:
    """Where you stand: readiness per competency against a level's hire bar, the competency x
    difficulty map, the review queue (most important first) and what to drill next."""
    from dataclasses import asdict

    from rich.markdown import Markdown

    from bot.content.models import TARGET_LEVELS
    from bot.interview import EngineContext
    from bot.interview.progress import progress_markdown, user_progress
    from bot.store import AttemptStore

    if level not in TARGET_LEVELS:
        raise BotError(f"--level must be one of {', '.join(TARGET_LEVELS)} (got {level!r})")
    settings = get_settings()
    with AttemptStore.open(settings.effective_database_url) as store:
        ctx = EngineContext(settings, content_bank(None), store, user_id=chosen_user(store, user))
        standing = user_progress(ctx, level)
    if as_json:
        print_json(asdict(standing))
        return
    out.print(Markdown(shown(progress_markdown(standing))))


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    since: Annotated[str | None, typer.Option(help="Only from this date (YYYY-MM-DD).")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="File (default: stdout).")] = None,
    key_points: Annotated[
        Path | None,
        typer.Option(
            "--key-points", help="With csv: also write one row per attempt and key point here."
        ),
    ] = None,
    root: RootOpt = None,
    user: UserOpt = None,
) -> None:
    """Export every attempt: CSV (one row each) or JSON (everything, follow-ups and grades)."""
    from bot.store import AttemptStore, collect_export, export_csv, export_json
    from bot.store import export_key_points_csv as write_key_points

    if fmt not in ("csv", "json"):
        raise BotError(f"unknown format '{fmt}' (use csv or json)")
    if key_points is not None and fmt != "csv":
        raise BotError("--key-points goes with --format csv (the JSON holds the key points)")
    try:
        start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
    except ValueError:
        raise BotError(f"--since takes a date like 2026-11-01, not '{since}'") from None
    questions = content_bank(root).questions
    with AttemptStore.open(get_settings().effective_database_url) as store:
        data = collect_export(store, questions, since=start, user_id=chosen_user(store, user))
    buffer = io.StringIO(newline="")
    if fmt == "csv":
        export_csv(data, buffer)
    else:
        buffer.write(
            json.dumps(export_json(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        )
    _write(buffer.getvalue(), out_file)
    if key_points is not None:
        buffer = io.StringIO(newline="")
        write_key_points(data, buffer)
        _write(buffer.getvalue(), key_points)


def _write(text: str, path: Path | None) -> None:
    """To the file (UTF-8, newlines as written), or to stdout when there is none."""
    if path is None:
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise BotError(f"cannot write {path}: {reason}") from None
    err.print(f"wrote {escape(shown(str(path)))}", highlight=False)
