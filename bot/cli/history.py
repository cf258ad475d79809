"""Your attempts: history and export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import JsonOpt, app, err, out, print_json, shown
from bot.config import get_settings
from bot.content import COMPETENCIES
from bot.errors import BotError


@app.command()
def history(as_json: JsonOpt = False) -> None:
    """Your graded attempts: count, mean score and trend per competency."""
    from bot.store import RETRY_AFTER_FEEDBACK, AttemptStore

    with AttemptStore.open(get_settings().effective_database_url) as store:
        summary = store.summary()
        attempts = store.attempts()
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
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    since: Annotated[str | None, typer.Option(help="Only from this date (YYYY-MM-DD).")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="File (default: stdout).")] = None,
) -> None:
    """Export attempts: CSV (one row per graded attempt) or JSON (sessions with full grades)."""
    import io
    from datetime import UTC, datetime

    from bot.store import AttemptStore, export_csv, export_json

    if fmt not in ("csv", "json"):
        raise BotError(f"unknown format '{fmt}' (use csv or json)")
    try:
        start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
    except ValueError:
        raise BotError(f"--since takes a date like 2026-11-01, not '{since}'") from None
    buffer = io.StringIO()
    with AttemptStore.open(get_settings().effective_database_url) as store:
        if fmt == "csv":
            export_csv(store.attempts(since=start), buffer)
        else:
            exported = export_json(store.sessions(since=start))
            buffer.write(json.dumps(exported, indent=2, allow_nan=False) + "\n")
    if out_file is None:
        sys.stdout.write(buffer.getvalue())
        return
    try:
        out_file.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise BotError(f"cannot write {out_file}: {reason}") from None
    err.print(f"wrote {escape(shown(str(out_file)))}", highlight=False)
