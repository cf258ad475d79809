"""The Chainlit app: handlers turn clicks and messages into engine calls and render the events.

Start it with `interview-bot serve`. Business logic lives in bot.interview (the engine); the
settings are bot.web.choices, what is sent is bot.web.chat and its Markdown bot.web.render, the
side panel with the question, clock, actions and code editor is bot.web.room.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

import chainlit as cl

from bot.accounts import may_continue
from bot.config import get_settings
from bot.content.bank import load_bank_cached
from bot.errors import BotError, SessionMovedError, scrub
from bot.interview import EngineContext, InterviewSession
from bot.interview import events as ev
from bot.interview.healing import heal
from bot.interview.progress import progress_markdown, user_progress
from bot.interview.unfinished import discard, is_open
from bot.store import AttemptStore, summary_of
from bot.web import (
    auth,
    chat,
    choices,
    history,
    identity,
    lanes,
    preferences,
    render,
    room,
    sessions,
    upload,
)
from bot.web.server import guard_chainlit

TICK_SECONDS = 1.0
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
    slow ones in their lanes (bot.web.lanes), one at a time per chat. When the session moved to
    another tab, this chat lets it go and says so (no events)."""
    lock: asyncio.Lock = cl.user_session.get("lock")
    async with lock:
        try:
            return await lanes.perform(fn, *args)
        except SessionMovedError as moved:
            cl.user_session.set("session", None)
            await room.close()
            await cl.Message(content=str(moved), actions=chat.actions("start")).send()
            _stop_timer()
            return []


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
        identity.refuse()
        await cl.Message(content=identity.DISABLED).send()
        return
    settings = await asyncio.to_thread(preferences.load, ctx)
    await choices.show(ctx, settings)
    cl.user_session.set("settings", settings)
    unfinished = await sessions.unfinished(ctx)
    actions = sessions.list_actions(unfinished)
    actions += chat.actions("start", "history", "export_csv", "export_json")
    text = choices.welcome(settings, sessions.list_markdown(unfinished))
    await cl.Message(content=text, actions=actions).send()


@cl.on_settings_edit
async def on_settings_edit(edited: dict[str, Any]) -> None:
    """A new mode shows its own fields while the panel is open."""
    merged = choices.merge(cl.user_session.get("settings"), edited)
    await choices.refresh(_ctx(), merged, shown=edited)


@cl.on_settings_update
async def on_settings_update(sent: dict[str, Any]) -> None:
    ctx = engine_context()
    merged = choices.merge(cl.user_session.get("settings"), sent)
    settings = await asyncio.to_thread(preferences.save, ctx, merged)
    cl.user_session.set("settings", settings)
    await choices.refresh(ctx, settings, shown=sent)
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
    running = _session()
    abandon = action.payload.get("abandon")
    try:
        ctx = _ctx()  # refused for a disabled user
        if isinstance(abandon, str):  # the candidate chose to abandon it for a new one
            await asyncio.to_thread(discard, ctx, abandon)
            if running is not None and running.id == abandon:
                await _drop_session()
        elif await sessions.ask_before_start(
            ctx, running.id if running else None, choices.describe(settings)
        ):
            return
        session, events = await asyncio.to_thread(choices.start, ctx, settings)
    except BotError as error:
        await cl.Message(content=f"**Problem:** {scrub(str(error), limit=None)}").send()
        return
    await _adopt(session, events)


@cl.action_callback("resume")
async def on_resume(action: cl.Action) -> None:
    ctx, session_id = _ctx(), str(action.payload.get("id"))
    try:
        if not await asyncio.to_thread(is_open, ctx, session_id):
            raise BotError("that session has ended or is not yours to resume")
        session, events = await asyncio.to_thread(InterviewSession.resume, ctx, session_id)
    except BotError as error:
        await sessions.offer(ctx, sessions.NOT_OPEN, lead=f"**Problem:** {scrub(str(error))}")
        return
    pending: str | None = cl.user_session.get("pending")  # typed while no session was open
    await _adopt(session, events)
    if pending:
        await _send(await _call(session.say, pending))


@cl.action_callback("discard")
async def on_discard(action: cl.Action) -> None:
    ctx, session_id = _ctx(), str(action.payload.get("id"))
    gone = await asyncio.to_thread(discard, ctx, session_id)
    running = _session()
    if running is not None and running.id == session_id:
        await _drop_session()
    said = "Discarded." if gone else "That session was not open any more."
    await sessions.offer(ctx, "Your other unfinished sessions:", lead=said)


async def _drop_session() -> None:
    _stop_timer()
    cl.user_session.set("session", None)
    await room.close()


async def _adopt(session: InterviewSession, events: list[ev.Event]) -> None:
    _stop_timer()
    await asyncio.to_thread(session.hold, str(cl.user_session.get("id")))  # this tab drives it
    cl.user_session.set("pending", None)
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
        cl.user_session.set("pending", message.content or None)
        await sessions.offer(_ctx(), sessions.NOT_SENT)
        return
    files = [f for f in [await upload.read(e) for e in message.elements or []] if f]
    code = next((f for f in files if f.python), None) if room.edits_code(session) else None
    if code is not None:  # an uploaded .py replaces the editor's code, as if typed there
        files.remove(code)
        await _send(await _call(session.write_code, code.text))
        await room.sync(_ctx(), session, force=True)
        await cl.Message(content=f"Loaded **{code.name}** into the editor.").send()
    text = "\n\n".join([message.content or "", *(f.as_message() for f in files)]).strip()
    if text:
        await _send(await _call(session.say, text))
    elif code is None:
        await cl.Message(content="That message was empty; nothing was added.").send()


async def _act(method: str) -> None:
    session = _session()
    if session is None:
        await sessions.offer(_ctx(), sessions.NOT_OPEN)
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
    await room.sync(_ctx(), _session(), force=True)


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
    if isinstance(report, list):  # no report: the session moved to another tab
        return
    await cl.Message(content=chat.tests_markdown(question, report, hidden=False)).send()


# --- history and export -----------------------------------------------------------------------


@cl.action_callback("history")
async def on_history(action: cl.Action) -> None:
    """The summary and chart (scores only, no answer text), then the newest page of attempts."""
    ctx = _ctx()
    points = await asyncio.to_thread(ctx.store.score_points, ctx.user_id)
    summary = summary_of(points)  # the same rows, not read again
    level = choices.clean(cl.user_session.get("settings"))["level"]
    standing = await asyncio.to_thread(user_progress, ctx, level)
    elements: list[Any] = []
    if any(a.score is not None for a in points):
        figure = render.score_history_figure(points, standing)
        elements.append(chat.chart("score-history", figure))
    parts = [
        progress_markdown(standing),
        render.history_markdown(summary, len(points)),
        await history.page_markdown(ctx, 0),
    ]
    await cl.Message(
        content="\n\n".join(part for part in parts if part),
        elements=elements,
        actions=history.page_actions(0, len(points))
        + chat.actions("export_csv", "export_json", "start"),
    ).send()


@cl.action_callback("older")
async def on_older(action: cl.Action) -> None:
    offset = int(action.payload.get("offset", 0))
    ctx = _ctx()
    total = len(await asyncio.to_thread(ctx.store.score_points, ctx.user_id))
    await cl.Message(
        content=await history.page_markdown(ctx, offset) or "No older attempts.",
        actions=history.page_actions(offset, total),
    ).send()


@cl.action_callback("export_csv")
async def on_export_csv(action: cl.Action) -> None:
    await history.export(_ctx(), "csv")


@cl.action_callback("export_json")
async def on_export_json(action: cl.Action) -> None:
    await history.export(_ctx(), "json")


async def _send(events: list[ev.Event]) -> None:
    if any(isinstance(e, ev.SessionEnded) for e in events):
        _stop_timer()
    await chat.send(_ctx(), events)
    await room.sync(_ctx(), _session())


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
