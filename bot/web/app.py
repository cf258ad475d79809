"""The Chainlit app: handlers turn clicks and messages into engine calls and render the events.

Start it with `interview-bot serve`. Business logic lives in bot.interview (the engine); the
settings are bot.web.choices, what is sent is bot.web.chat and its Markdown bot.web.render, the
side panel with the question, clock, actions and code editor is bot.web.room.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

import chainlit as cl

from bot.accounts import may_continue
from bot.config import get_settings
from bot.content.bank import load_bank_cached
from bot.errors import BotError, scrub
from bot.interview import EngineContext, InterviewSession
from bot.interview import events as ev
from bot.interview.healing import heal
from bot.interview.progress import progress_markdown, user_progress
from bot.store import (
    AttemptStore,
    collect_export,
    export_csv,
    export_json,
    export_key_points_csv,
)
from bot.web import auth, chat, choices, identity, lanes, render, room, upload
from bot.web.server import guard_chainlit

TICK_SECONDS = 1.0
EXPORT_NAME = "interview-bot-attempts"  # .csv or .json
KEY_POINTS_NAME = "interview-bot-key-points.csv"  # offered beside the CSV export
HISTORY_PAGE = 10  # attempts in one page of the history
RESTART = "restart"  # whose work the grading of answers a crash left waiting is, in its lane


@lru_cache(maxsize=1)
def engine_context() -> EngineContext:
    """One content bank, store and grader cache per server process."""
    settings = get_settings()
    bank = load_bank_cached(settings.content_dir.resolve())
    return EngineContext(settings, bank, AttemptStore.open(settings.effective_database_url))


def _ctx() -> EngineContext:
    """The engine context as the current chat's signed-in user (bot.web.identity)."""
    return identity.user_context(engine_context())


auth.install(lambda: engine_context().store)  # before the guard: it refuses an open server
guard_chainlit()


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """Engine calls block (grading, code runs, the database): run them off the event loop, the
    slow ones in their lanes (bot.web.lanes), one at a time per chat."""
    lock: asyncio.Lock = cl.user_session.get("lock")
    async with lock:
        return await lanes.perform(fn, *args)


# --- chat lifecycle ---------------------------------------------------------------------------


@cl.on_app_startup
async def on_app_startup() -> None:
    """Load the content and warm the grader in the background, so the first grade is quick."""
    ctx = await asyncio.to_thread(engine_context)
    asyncio.get_running_loop().run_in_executor(None, ctx.grader, "auto")
    lanes.lanes().grading.submit(RESTART, partial(heal, ctx))  # what a crash left ungraded


@cl.on_chat_start
async def on_chat_start() -> None:
    ctx = (await asyncio.to_thread(engine_context)).for_user(identity.current_user_id())
    cl.user_session.set("lock", asyncio.Lock())
    allowed = await asyncio.to_thread(may_continue, ctx.store, ctx.user_id)
    if identity.signed_in_user() and not allowed:
        await cl.Message(content="This account is disabled. Ask the admin to enable it.").send()
        return
    settings = await cl.ChatSettings(choices.widgets(ctx)).send()
    cl.user_session.set("settings", settings)
    unfinished = await asyncio.to_thread(InterviewSession.unfinished, ctx.store, ctx.user_id)
    actions = chat.actions("start", "history", "export_csv", "export_json")
    if unfinished:
        actions.insert(1, cl.Action(name="resume", payload={"id": unfinished[0]}, label="Resume"))
    await cl.Message(content=choices.welcome(settings, bool(unfinished)), actions=actions).send()


@cl.on_settings_update
async def on_settings_update(settings: dict[str, Any]) -> None:
    cl.user_session.set("settings", settings)
    await cl.Message(
        content=f"Settings saved: **{choices.describe(settings)}**.", actions=chat.actions("start")
    ).send()


@cl.on_chat_end
async def on_chat_end() -> None:
    _stop_timer()


# --- starting sessions --------------------------------------------------------------------------


@cl.action_callback("start")
async def on_start(action: cl.Action) -> None:
    settings: dict[str, Any] = cl.user_session.get("settings") or {}
    ctx = _ctx()
    try:
        session, events = await asyncio.to_thread(choices.start, ctx, settings)
    except BotError as error:
        await cl.Message(content=f"**Problem:** {scrub(str(error), limit=None)}").send()
        return
    await _adopt(session, events)


@cl.action_callback("resume")
async def on_resume(action: cl.Action) -> None:
    try:
        session, events = await asyncio.to_thread(
            InterviewSession.resume, _ctx(), str(action.payload.get("id"))
        )
    except BotError as error:
        await cl.Message(content=f"**Problem:** {scrub(str(error), limit=None)}").send()
        return
    await _adopt(session, events)


async def _adopt(session: InterviewSession, events: list[ev.Event]) -> None:
    _stop_timer()
    cl.user_session.set("session", session)
    await _send(events)
    if session.state.mode == "mock":
        cl.user_session.set("timer", asyncio.create_task(_timer_loop(session)))


# --- the candidate's actions ------------------------------------------------------------------


def _session() -> InterviewSession | None:
    session: InterviewSession | None = cl.user_session.get("session")
    return session if session is not None and not session.state.ended else None


@cl.on_message
async def on_message(message: cl.Message) -> None:
    session = _session()
    if session is None:
        await cl.Message(
            content="No session is running. Pick a mode in the settings and press **Start**.",
            actions=chat.actions("start", "history"),
        ).send()
        return
    files = [f for f in [await upload.read(e) for e in message.elements or []] if f]
    code = next((f for f in files if f.python), None) if room.edits_code(session) else None
    if code is not None:  # an uploaded .py replaces the editor's code, as if typed there
        files.remove(code)
        await _send(await _call(session.write_code, code.text))
        await room.sync(engine_context(), session, force=True)
        await cl.Message(content=f"Loaded **{code.name}** into the editor.").send()
    text = "\n\n".join([message.content or "", *(f.as_message() for f in files)]).strip()
    if text:
        await _send(await _call(session.say, text))
    elif code is None:
        await cl.Message(content="That message was empty; nothing was added.").send()


async def _act(method: str) -> None:
    session = _session()
    if session is None:
        await cl.Message(content="No session is running.", actions=chat.actions("start")).send()
        return
    await _send(await _call(getattr(session, method)))


@cl.action_callback("hint")
async def on_hint(action: cl.Action) -> None:
    await _act("hint")


@cl.action_callback("submit")
async def on_submit(action: cl.Action) -> None:
    await _take_code(action)
    await _act("submit")


async def _take_code(action: cl.Action) -> None:
    """Run examples, Submit and the editor's autosave carry its text: it becomes the answer's
    code (saved) before anything runs, and a submitted one is shown in the chat."""
    session, code = _session(), action.payload.get("code")
    question_id = action.payload.get("question")
    if session is None or not isinstance(code, str) or not room.edits_code(session, question_id):
        return
    await _send(await _call(session.write_code, code))
    current = session.state.current
    if action.name == "submit" and current is not None and current.code:
        await cl.Message(content=render.code_markdown(current.code), type="user_message").send()


@cl.action_callback(room.SAVE_CODE)
async def on_save_code(action: cl.Action) -> None:
    await _take_code(action)


@cl.action_callback("room")
async def on_room(action: cl.Action) -> None:
    await room.sync(engine_context(), _session(), force=True)


@cl.action_callback("skip")
async def on_skip(action: cl.Action) -> None:
    await _act("skip")


@cl.action_callback("end")
async def on_end(action: cl.Action) -> None:
    await _act("end")


@cl.action_callback("next_round")
async def on_next_round(action: cl.Action) -> None:
    await _act("next_round")


@cl.action_callback("run_examples")
async def on_run_examples(action: cl.Action) -> None:
    session = _session()
    question = session.question if session else None
    if session is None or question is None or question.coding is None:
        await cl.Message(content="Run examples works on a coding question.").send()
        return
    await _take_code(action)
    report = await _call(session.run_examples)
    await cl.Message(content=chat.tests_markdown(question, report, hidden=False)).send()


# --- history and export -----------------------------------------------------------------------


@cl.action_callback("history")
async def on_history(action: cl.Action) -> None:
    """The summary and chart (scores only, no answer text), then the newest page of attempts."""
    ctx = _ctx()
    points = await asyncio.to_thread(ctx.store.score_points, ctx.user_id)
    summary = await asyncio.to_thread(ctx.store.summary, ctx.user_id)
    elements: list[Any] = []
    if any(a.score is not None for a in points):
        figure = render.score_history_figure(points)
        elements.append(cl.Plotly(name="score-history", figure=figure, display="inline"))
    level = choices.clean(cl.user_session.get("settings"))["level"]
    standing = await asyncio.to_thread(user_progress, ctx, level)
    parts = [
        progress_markdown(standing),
        render.history_markdown(summary, len(points)),
        await _page_markdown(0),
    ]
    await cl.Message(
        content="\n\n".join(part for part in parts if part),
        elements=elements,
        actions=_page_actions(0, len(points)) + chat.actions("export_csv", "export_json", "start"),
    ).send()


@cl.action_callback("older")
async def on_older(action: cl.Action) -> None:
    offset = int(action.payload.get("offset", 0))
    ctx = _ctx()
    total = len(await asyncio.to_thread(ctx.store.score_points, ctx.user_id))
    await cl.Message(
        content=await _page_markdown(offset) or "No older attempts.",
        actions=_page_actions(offset, total),
    ).send()


async def _page_markdown(offset: int) -> str:
    ctx = _ctx()
    page = await asyncio.to_thread(
        ctx.store.history_page, ctx.user_id, offset=offset, limit=HISTORY_PAGE
    )
    return render.recent_attempts_markdown(page[::-1], limit=HISTORY_PAGE)


def _page_actions(offset: int, total: int) -> list[cl.Action]:
    after = offset + HISTORY_PAGE
    if after >= total:
        return []
    label = f"Older attempts ({after + 1}-{min(after + HISTORY_PAGE, total)} of {total})"
    return [cl.Action(name="older", payload={"offset": after}, label=label)]


async def _export(fmt: str) -> None:
    """CSV: two files, the attempts (one row each) and their key points (one row per attempt
    and key point); JSON: one file holding everything."""
    ctx = _ctx()
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


@cl.action_callback("export_csv")
async def on_export_csv(action: cl.Action) -> None:
    await _export("csv")


@cl.action_callback("export_json")
async def on_export_json(action: cl.Action) -> None:
    await _export("json")


async def _send(events: list[ev.Event]) -> None:
    if any(isinstance(e, ev.SessionEnded) for e in events):
        _stop_timer()
    await chat.send(engine_context(), events)
    await room.sync(engine_context(), _session())


# --- the round timer --------------------------------------------------------------------------


async def _timer_loop(session: InterviewSession) -> None:
    while not session.state.ended:
        await asyncio.sleep(TICK_SECONDS)
        events = await _call(session.tick)
        if events:
            await _send(events)


def _stop_timer() -> None:
    task: asyncio.Task[None] | None = cl.user_session.get("timer")
    if task is not None:
        task.cancel()
        cl.user_session.set("timer", None)
