"""The interview room: the question, its clock, the actions and a code editor, in a fixed place.

The room is one custom element (assets/public/elements/Interview.jsx; Chainlit titles the panel
with the element's name) shown in Chainlit's element side panel, so none of it scrolls away with
the chat. Chainlit opens that panel for the side elements a chat has, and closes it when it has
none: the chat keeps exactly one, updated only when what it shows changes (another question, a
follow-up) or when the candidate asks for it, and removed when no question is open. An update
remounts the element; its editor keeps the unsent text in the browser meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import chainlit as cl

from bot.content import COMPETENCIES
from bot.interview import EngineContext, InterviewSession
from bot.interview.editor import INDENT, starter_code
from bot.web import chat, render

ELEMENT = "Interview"  # its file name under assets/public/elements, and the panel's title
ELEMENT_KEY, SENT_KEY = "room_id", "room_key"  # user_session: its element id, the key last sent
SENDS_CODE = frozenset({"run_examples", "submit"})  # their clicks carry the editor's text
SAVE_CODE = "save_code"  # the action the editor calls on its own, a moment after typing stops


def props(ctx: EngineContext, session: InterviewSession | None) -> dict[str, Any] | None:
    """What the room shows for `session`, or None when no question is open."""
    if session is None or session.state.ended or session.state.current is None:
        return None
    current, question = session.state.current, session.question
    assert question is not None
    deadline = None
    if current.round_index is not None:
        deadline = session.state.rounds[current.round_index].deadline()
    follow_up = None
    if current.phase == "follow_up":
        ask, n = current.follow_ups[current.follow_up_index], current.follow_up_index + 1
        follow_up = f"**Follow-up {n}/{len(current.follow_ups)}:** {render.reflow(ask.shown)}"
    coding = question.coding is not None
    return {
        "session": session.id,
        "question": question.id,
        "label": _label(session),
        "title": question.title,
        "meta": (
            f"{render.KIND_NAMES[question.kind]} · {question.competency} "
            f"{COMPETENCIES[question.competency]} · difficulty {question.difficulty}/5"
        ),
        "prompt": render.reflow(question.prompt),
        "examples": render.example_lines(question),
        "coding": coding,
        "code": (current.code or starter_code(question)) if coding else "",
        "phase": current.phase,
        "followUp": follow_up,
        "deadline": deadline.isoformat() if deadline else None,
        "startedAt": current.started_at.isoformat(),
        "warnSeconds": _warn_seconds(session),
        "actions": _actions(session),
        "saveAction": SAVE_CODE,
        "indent": INDENT,
    }


def _label(session: InterviewSession) -> str:
    st, current = session.state, session.state.current
    assert current is not None
    if current.round_index is not None:
        round_ = st.rounds[current.round_index]
        return f"Round {current.round_index + 1}/{len(st.rounds)}: {round_.name}"
    if st.mode == "drill" and st.drill is not None:
        total = f" of {st.max_questions}" if st.max_questions else ""
        return f"Drill {st.drill.competency} · question {len(st.results) + 1}{total}"
    return "Single question"


def _warn_seconds(session: InterviewSession) -> float:
    current = session.state.current
    if current is None or current.round_index is None:
        return 0.0
    return session.warn_seconds(session.state.rounds[current.round_index])


def _actions(session: InterviewSession) -> list[dict[str, Any]]:
    current, question = session.state.current, session.question
    assert current is not None and question is not None
    names = ["submit", "skip", "end"]
    if current.phase == "answering":
        names = ["hint", *(["run_examples"] if question.coding else []), *names]
    return [
        {
            "name": n,
            "label": chat.LABELS[n],
            "primary": n == "submit",
            "sendsCode": n in SENDS_CODE,
        }
        for n in names
    ]


def edits_code(session: InterviewSession, question_id: str | None = None) -> bool:
    """Whether the editor's code is taken now: a coding question being answered (the one the
    browser's room showed, when it says which)."""
    current, question = session.state.current, session.question
    return (
        current is not None
        and question is not None
        and question.coding is not None
        and current.phase == "answering"
        and question_id in (None, question.id)
    )


def key(shown: dict[str, Any]) -> str:
    """Names what the room shows, leaving out the editor's code: the editor sends that itself,
    so a Run, a Submit or an autosave needs no new room (an upload forces one)."""
    named = {k: v for k, v in shown.items() if k != "code"}
    return hashlib.sha256(json.dumps(named, sort_keys=True).encode()).hexdigest()[:16]


async def sync(
    ctx: EngineContext, session: InterviewSession | None, *, force: bool = False
) -> None:
    """Show the room for `session`'s open question (remove it when there is none), sending it
    only when it changed, or when `force`d (the candidate closed it, or the code was replaced)."""
    shown = props(ctx, session)
    if shown is None:
        await close()
        return
    room_key = key(shown)
    room_id: str | None = cl.user_session.get(ELEMENT_KEY)
    if room_id is not None and not force and cl.user_session.get(SENT_KEY) == room_key:
        return
    room = cl.CustomElement(name=ELEMENT, props=shown, display="side")
    # the same element, updated: Chainlit keeps it the chat's only side one. Its id comes from
    # the browser's session, which outlives a server restart: a room shown before one is
    # replaced, not joined by a second
    room.id = room_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"room:{cl.context.session.id}"))
    await room.send(for_id="", persist=False)
    cl.user_session.set(ELEMENT_KEY, room.id)
    cl.user_session.set(SENT_KEY, room_key)


async def close() -> None:
    room_id: str | None = cl.user_session.get(ELEMENT_KEY)
    if room_id is not None:
        await cl.context.emitter.emit("remove_element", {"id": room_id})
    cl.user_session.set(ELEMENT_KEY, None)
    cl.user_session.set(SENT_KEY, None)
