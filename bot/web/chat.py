"""Sending engine events to the chat: messages, streamed feedback and buttons.

The question, its clock and the candidate's actions are also in the interview room (bot.web.room).
"""

from __future__ import annotations

import json
from typing import Any

import chainlit as cl

from bot.content import Question
from bot.interview import EngineContext
from bot.interview import events as ev
from bot.sandbox import RunReport
from bot.sandbox.run_report import render_run
from bot.web import render

LABELS = {
    "start": "Start",
    "hint": "Hint",
    "submit": "Submit",
    "run_examples": "Run examples",
    "skip": "Skip",
    "end": "End interview",
    "next_round": "Start the next round",
    "history": "Progress & history",
    "export_csv": "Export CSV",
    "export_json": "Export JSON",
    "room": "Show the room",
}


def actions(*names: str) -> list[cl.Action]:
    return [cl.Action(name=n, payload={}, label=LABELS[n]) for n in names]


CHART_CONFIG = {"displayModeBar": False, "responsive": True}  # no toolbar over the legend


def chart(name: str, figure: Any) -> cl.Plotly:
    """An inline Plotly chart without Plotly's toolbar."""
    element = cl.Plotly(name=name, figure=figure, display="inline")
    element.content = json.dumps({**json.loads(element.content), "config": CHART_CONFIG})
    return element


async def send(ctx: EngineContext, events: list[ev.Event]) -> None:
    for event in events:
        await _send_one(ctx, event)


async def _send_one(ctx: EngineContext, event: ev.Event) -> None:
    if isinstance(event, ev.QuestionAsked):
        await clear_actions()
        msg = cl.Message(content=render.question_markdown(event), actions=actions("room"))
        await msg.send()
        cl.user_session.set("actions_msg", msg)
    elif isinstance(event, ev.Graded):
        await clear_actions()
        await _stream_feedback(ctx, event)
    elif isinstance(event, ev.FollowUpAsked):
        await clear_actions()
        msg = cl.Message(
            content=render.follow_up_line(event),
            actions=actions("room"),
        )
        await msg.send()
        cl.user_session.set("actions_msg", msg)
    elif isinstance(event, ev.RoundBreak):
        await clear_actions()
        msg = cl.Message(
            content=(
                f"**{event.finished}** is over. Next: round {event.next_number}/"
                f"{event.rounds_total}, **{event.next_name}** ({event.next_minutes} min). "
                "Take a breath; its clock starts when you are ready."
            ),
            actions=actions("next_round", "end"),
        )
        await msg.send()
        cl.user_session.set("actions_msg", msg)
    elif isinstance(event, ev.FollowUpGraded):
        await cl.Message(content=render.follow_up_markdown(event)).send()
    elif isinstance(event, ev.SessionEnded):
        await clear_actions()
        report = cl.File(
            name="interview-report.md",
            content=event.report.encode(),
            display="inline",
            mime="text/markdown",
        )
        await cl.Message(
            content=event.report, elements=[report], actions=actions("history", "start")
        ).send()
    else:
        await cl.Message(content=render.short_markdown(event)).send()


async def _stream_feedback(ctx: EngineContext, event: ev.Graded) -> None:
    tests = tests_markdown(event.question, event.tests, hidden=True) if event.tests else None
    text = render.feedback_markdown(event, tests)
    msg = cl.Message(content="")
    for piece in render.chunks(text):
        await msg.stream_token(piece)
    await msg.update()
    # a step shows collapsed under the feedback: the reference is there when the candidate wants it
    async with cl.Step(name="Reference answer", type="retrieval", show_input=False) as step:
        step.output = render.reference_markdown(ctx.bank, event.question)


async def clear_actions() -> None:
    previous: cl.Message | None = cl.user_session.get("actions_msg")
    if previous is not None:
        await previous.remove_actions()
        cl.user_session.set("actions_msg", None)


def tests_markdown(question: Question, report: dict[str, Any] | None, *, hidden: bool) -> str:
    if report is None:
        return ""
    assert question.coding is not None
    tests = question.coding.tests if hidden else question.coding.examples
    return render_run(RunReport.from_dict(report), list(tests), hidden=hidden)
