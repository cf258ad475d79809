"""No dead ends: the candidate's unfinished sessions, each with Resume and Discard; a question
before a Start would leave one behind; and a reply to a button whose session is not open in
this chat (an old message, or a server restart) that offers those sessions instead of a shrug.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import chainlit as cl

from bot.interview import EngineContext
from bot.interview.unfinished import Unfinished, unfinished_sessions
from bot.web import chat

LISTED = 10  # unfinished sessions listed at once, newest first; the rest are counted
CONTINUE = "Continue current session"
ABANDON = "Abandon it and start new"
NOT_OPEN = (
    "That button belongs to a session that is not open in this chat (an older message, or the "
    "server restarted)."
)
NOT_SENT = (
    "No session is open in this chat, so your message is not part of an answer yet. Resume a "
    "session and it is added to that session's answer."
)
NONE_OPEN = "No session is running. Pick a mode in the settings and press **Start**."


def list_markdown(items: Sequence[Unfinished]) -> str:
    """The unfinished sessions as a numbered list, newest first."""
    if not items:
        return ""
    lines = [f"**Unfinished session{'s' if len(items) > 1 else ''}** (newest first):", ""]
    for n, item in enumerate(items[:LISTED], start=1):
        answered = f", {item.answered} answered" if item.answered else ""
        when = f"{item.started_at:%Y-%m-%d %H:%M} UTC"
        lines.append(f"{n}. {item.summary} (started {when}{answered})")
    if len(items) > LISTED:
        more = len(items) - LISTED
        lines += ["", f"_{more} older ones are not listed: discard some to see them._"]
    return "\n".join(lines)


def list_actions(items: Sequence[Unfinished]) -> list[cl.Action]:
    """Resume and Discard for each listed session (numbered when there are several)."""
    out = []
    for n, item in enumerate(items[:LISTED], start=1):
        tag = f" {n}" if len(items) > 1 else ""
        out.append(cl.Action(name="resume", payload={"id": item.id}, label=f"Resume{tag}"))
        out.append(cl.Action(name="discard", payload={"id": item.id}, label=f"Discard{tag}"))
    return out


async def unfinished(ctx: EngineContext) -> list[Unfinished]:
    return await asyncio.to_thread(unfinished_sessions, ctx)


async def offer(ctx: EngineContext, why: str, *, lead: str = "") -> None:
    """Offer the user's unfinished sessions, saying `why`; when there are none, say so and
    offer Start. `lead` comes first either way."""
    items = await unfinished(ctx)
    head = f"{lead}\n\n" if lead else ""
    if not items:
        actions = chat.actions("start", "history")
        await cl.Message(content=head + NONE_OPEN, actions=actions).send()
        return
    text = f"{head}{why}\n\n{list_markdown(items)}\n\nResume one to carry on where you left it."
    await cl.Message(content=text, actions=list_actions(items) + chat.actions("start")).send()


async def ask_before_start(ctx: EngineContext, running: str | None, new: str) -> bool:
    """Before starting `new` (its description) while this chat runs the session `running`, ask
    whether to continue it or abandon it for the new one, and return True (the caller starts
    nothing now). False when the chat runs none: a session left open elsewhere (another tab,
    before a restart) stays open and listed, never abandoned unasked."""
    if running is None:
        return False
    found = [i for i in await unfinished(ctx) if i.id == running]
    summary = found[0].summary if found else "A session"
    keep = cl.Action(name="room", payload={}, label=CONTINUE)
    abandon = cl.Action(name="start", payload={"abandon": running}, label=ABANDON)
    text = (
        f"**{summary}** is running in this chat. Continue it, or abandon it (its graded answers "
        f"stay in your history) and start **{new}**?"
    )
    await cl.Message(content=text, actions=[keep, abandon]).send()
    return True
