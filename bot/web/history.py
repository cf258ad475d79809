"""The history and the exports as the chat shows them: pages of attempts, and the downloads."""

from __future__ import annotations

import asyncio
import io
import json

import chainlit as cl

from bot.interview import EngineContext
from bot.store import collect_export, export_csv, export_json, export_key_points_csv
from bot.web import render

EXPORT_NAME = "interview-bot-attempts"  # .csv or .json
KEY_POINTS_NAME = "interview-bot-key-points.csv"  # offered beside the CSV export
HISTORY_PAGE = 10  # attempts in one page of the history


async def page_markdown(ctx: EngineContext, offset: int) -> str:
    """One page of the user's attempts, newest first from `offset`."""
    page = await asyncio.to_thread(
        ctx.store.history_page, ctx.user_id, offset=offset, limit=HISTORY_PAGE
    )
    return render.recent_attempts_markdown(page[::-1], limit=HISTORY_PAGE)


def page_actions(offset: int, total: int) -> list[cl.Action]:
    after = offset + HISTORY_PAGE
    if after >= total:
        return []
    label = f"Older attempts ({after + 1}-{min(after + HISTORY_PAGE, total)} of {total})"
    return [cl.Action(name="older", payload={"offset": after}, label=label)]


async def export(ctx: EngineContext, fmt: str) -> None:
    """CSV: two files, the attempts (one row each) and their key points (one row per attempt
    and key point); JSON: one file holding everything."""
    data = await asyncio.to_thread(
        collect_export, ctx.store, ctx.bank.questions, user_id=ctx.user_id
    )
    name = f"{EXPORT_NAME}.{fmt}"
    if fmt == "csv":
        attempts, key_points = io.StringIO(newline=""), io.StringIO(newline="")
        count, points = export_csv(data, attempts), export_key_points_csv(data, key_points)
        files = [
            _download(name, attempts.getvalue()),
            _download(KEY_POINTS_NAME, key_points.getvalue()),
        ]
        said = f"{count} attempts: **{name}**; {points} key-point results: **{KEY_POINTS_NAME}**"
    else:
        text = json.dumps(export_json(data), indent=2, ensure_ascii=False) + "\n"
        files = [_download(name, text)]
        said = f"{len(data.attempts)} attempts in {len(data.sessions)} sessions: **{name}**"
    await cl.Message(content=f"Exported {said}", elements=files).send()


def _download(name: str, text: str) -> cl.File:
    mime = "text/csv" if name.endswith(".csv") else "application/json"
    return cl.File(name=name, content=text.encode("utf-8"), display="inline", mime=mime)
