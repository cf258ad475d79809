"""The Chainlit app: handlers turn clicks and messages into engine calls and render the events.

Start it with `interview-bot serve`. Business logic lives in bot.session (the engine) and
bot.web.render (Markdown); this module only wires Chainlit to them.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import chainlit as cl
from chainlit.input_widget import Select, Slider, TextInput

from bot.code_report import render_run
from bot.config import get_settings
from bot.content import COMPETENCIES, Question, load_bank
from bot.content.models import RoundPlan
from bot.errors import BotError
from bot.history import AttemptStore, export_csv, export_json
from bot.sandbox import RunReport
from bot.session import EngineContext, InterviewSession
from bot.session import events as ev
from bot.web import render

MODES = {"drill": "Drill one competency", "mock": "Mock interview", "single": "Single question"}
GRADERS = ["auto", "offline", "openai", "anthropic", "openai_compatible"]
TICK_SECONDS = 1.0


@lru_cache(maxsize=1)
def engine_context() -> EngineContext:
    """One content bank, store and grader cache per server process."""
    settings = get_settings()
    bank = load_bank(settings.content_dir.resolve())
    return EngineContext(settings, bank, AttemptStore.open(settings.effective_database_url))


def _settings_widgets(ctx: EngineContext) -> list[Any]:
    plans = list(ctx.bank.plans.values())
    return [
        Select(
            id="mode", label="Mode", items={v: k for k, v in MODES.items()}, initial_value="drill"
        ),
        Select(
            id="competency",
            label="Drill competency",
            items={f"{c} {name}": c for c, name in COMPETENCIES.items()},
            initial_value="C3",
        ),
        TextInput(id="tag", label="Drill topic tag (optional)", initial=""),
        Slider(id="difficulty", label="Starting difficulty", initial=2, min=1, max=5, step=1),
        Select(
            id="plan",
            label="Mock plan",
            items={_plan_label(p): p.id for p in sorted(plans, key=lambda p: p.id)},
            initial_value="standard",
        ),
        TextInput(
            id="minutes", label="Round minutes (e.g. 35,40,30; empty = the plan's)", initial=""
        ),
        TextInput(id="question", label="Single question id", initial=""),
        Select(id="grader", label="Grader", values=GRADERS, initial_value="auto"),
    ]


def _plan_label(plan: RoundPlan) -> str:
    rounds = ", ".join(f"{r.name} {r.minutes}" for r in plan.rounds)
    return f"{plan.title} ({rounds} min)"


LABELS = {
    "start": "Start",
    "hint": "Hint",
    "submit": "Submit",
    "run_examples": "Run examples",
    "skip": "Skip",
    "end": "End interview",
    "history": "History",
    "export_csv": "Export CSV",
    "export_json": "Export JSON",
}


def _actions(*names: str) -> list[cl.Action]:
    return [cl.Action(name=n, payload={}, label=LABELS[n]) for n in names]


def _answer_actions(question: Question) -> list[cl.Action]:
    names = ["hint", "submit", "skip", "end"]
    if question.coding is not None:
        names.insert(1, "run_examples")
    return _actions(*names)


async def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Engine calls block (grading, code runs, the database): run them off the event loop."""
    lock: asyncio.Lock = cl.user_session.get("lock")
    async with lock:
        return await asyncio.to_thread(fn, *args, **kwargs)


# --- chat lifecycle ---------------------------------------------------------------------------


@cl.on_app_startup
async def on_app_startup() -> None:
    """Load the content and warm the grader in the background, so the first grade is quick."""
    ctx = await asyncio.to_thread(engine_context)
    asyncio.get_running_loop().run_in_executor(None, ctx.grader, "auto")


@cl.on_chat_start
async def on_chat_start() -> None:
    ctx = engine_context()
    cl.user_session.set("lock", asyncio.Lock())
    settings = await cl.ChatSettings(_settings_widgets(ctx)).send()
    cl.user_session.set("settings", settings)
    unfinished = InterviewSession.unfinished(ctx.store, ctx.user_id)
    actions = _actions("start", "history", "export_csv", "export_json")
    if unfinished:
        actions.insert(1, cl.Action(name="resume", payload={"id": unfinished[0]}, label="Resume"))
    await cl.Message(content=_welcome(settings, bool(unfinished)), actions=actions).send()


def _welcome(settings: dict[str, Any], can_resume: bool) -> str:
    lines = [
        "**Welcome to interview-bot.** Practise mock interviews and drills; every answer is "
        "scored against a rubric and its key points, with quotes from your answer as evidence.",
        "",
        f"Current choice: **{_describe(settings)}**. Change it in the settings (the gear by the "
        "message box), then press **Start**.",
    ]
    if can_resume:
        lines += ["", "You have an unfinished session: **Resume** picks it up where you left it."]
    return "\n".join(lines)


def _describe(raw: dict[str, Any]) -> str:
    s = _clean(raw)
    if s["mode"] == "drill":
        tag = f", tag {s['tag']}" if s["tag"] else ""
        name = COMPETENCIES.get(s["competency"], "")
        return f"Drill {s['competency']} {name}{tag}, from difficulty {int(s['difficulty'])}"
    if s["mode"] == "mock":
        return f"Mock interview, plan '{s['plan']}'"
    return f"Single question '{s['question'] or '(type an id in the settings)'}'"


@cl.on_settings_update
async def on_settings_update(settings: dict[str, Any]) -> None:
    cl.user_session.set("settings", settings)
    await cl.Message(
        content=f"Settings saved: **{_describe(settings)}**.", actions=_actions("start")
    ).send()


@cl.on_chat_end
async def on_chat_end() -> None:
    _stop_timer()


# --- starting sessions --------------------------------------------------------------------------


@cl.action_callback("start")
async def on_start(action: cl.Action) -> None:
    settings: dict[str, Any] = cl.user_session.get("settings") or {}
    ctx = engine_context()
    try:
        session, events = await asyncio.to_thread(_start, ctx, settings)
    except BotError as error:
        await cl.Message(content=f"**Problem:** {error}").send()
        return
    await _adopt(session, events)


DEFAULTS: dict[str, Any] = {
    "mode": "drill",
    "competency": "C3",
    "tag": "",
    "difficulty": 2,
    "plan": "standard",
    "minutes": "",
    "question": "",
    "grader": "auto",
}


def _clean(settings: dict[str, Any] | None) -> dict[str, Any]:
    """The browser sends None for an empty field: fall back to the defaults."""
    given = {k: v for k, v in (settings or {}).items() if v is not None}
    return {**DEFAULTS, **given}


def _start(ctx: EngineContext, raw: dict[str, Any]) -> tuple[InterviewSession, list[ev.Event]]:
    s = _clean(raw)
    if s["mode"] == "mock":
        minutes = _minutes(str(s["minutes"]))
        return InterviewSession.start_mock(ctx, s["plan"], minutes=minutes, grader=s["grader"])
    if s["mode"] == "single":
        if not str(s["question"]).strip():
            raise BotError(
                "type a question id in the settings first (see `interview-bot questions`)"
            )
        return InterviewSession.start_single(ctx, str(s["question"]).strip(), grader=s["grader"])
    return InterviewSession.start_drill(
        ctx,
        s["competency"],
        tag=str(s["tag"]).strip() or None,
        difficulty=int(s["difficulty"]),
        grader=s["grader"],
    )


def _minutes(text: str) -> list[int] | None:
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    if not parts:
        return None
    if not all(p.isdigit() and 1 <= int(p) <= 120 for p in parts):
        raise BotError(
            f"round minutes must be whole numbers from 1 to 120, like 35,40,30 (got {text!r})"
        )
    return [int(p) for p in parts]


@cl.action_callback("resume")
async def on_resume(action: cl.Action) -> None:
    try:
        session, events = await asyncio.to_thread(
            InterviewSession.resume, engine_context(), action.payload["id"]
        )
    except BotError as error:
        await cl.Message(content=f"**Problem:** {error}").send()
        return
    await _adopt(session, events)


async def _adopt(session: InterviewSession, events: list[ev.Event]) -> None:
    _stop_timer()
    cl.user_session.set("session", session)
    await _render(events)
    if session.state.mode == "mock":
        cl.user_session.set("timer", asyncio.create_task(_timer_loop(session)))


# --- the candidate's actions ------------------------------------------------------------------


def _session() -> InterviewSession | None:
    session: InterviewSession | None = cl.user_session.get("session")
    return session if session is not None and not session.state.ended else None


@cl.on_message
async def on_message(message: cl.Message) -> None:
    session = _session()
    text = message.content or ""
    uploads = [await _read_upload(e) for e in message.elements or []]
    text = "\n\n".join([text, *(u for u in uploads if u)]).strip()
    if session is None:
        await cl.Message(
            content="No session is running. Pick a mode in the settings and press **Start**.",
            actions=_actions("start", "history"),
        ).send()
        return
    if not text:
        await cl.Message(content="That message was empty; nothing was added.").send()
        return
    await _render(await _call(session.say, text))


async def _read_upload(element: Any) -> str:
    path = getattr(element, "path", None)
    if not path:
        return ""
    raw = await asyncio.to_thread(Path(path).read_bytes)
    code = raw[:200_000].decode("utf-8", "replace")
    name = getattr(element, "name", "upload.py")
    return f"```python\n# {name}\n{code}\n```" if name.endswith(".py") else code


async def _act(method: str) -> None:
    session = _session()
    if session is None:
        await cl.Message(content="No session is running.", actions=_actions("start")).send()
        return
    await _render(await _call(getattr(session, method)))


@cl.action_callback("hint")
async def on_hint(action: cl.Action) -> None:
    await _act("hint")


@cl.action_callback("submit")
async def on_submit(action: cl.Action) -> None:
    await _act("submit")


@cl.action_callback("skip")
async def on_skip(action: cl.Action) -> None:
    await _act("skip")


@cl.action_callback("end")
async def on_end(action: cl.Action) -> None:
    await _act("end")


@cl.action_callback("run_examples")
async def on_run_examples(action: cl.Action) -> None:
    session = _session()
    question = session.question if session else None
    if session is None or question is None or question.coding is None:
        await cl.Message(content="Run examples works on a coding question.").send()
        return
    report = await _call(session.run_examples)
    await cl.Message(content=_tests_markdown(question, report, hidden=False)).send()


def _tests_markdown(question: Question, report: dict[str, Any] | None, *, hidden: bool) -> str:
    if report is None:
        return ""
    assert question.coding is not None
    tests = question.coding.tests if hidden else question.coding.examples
    return render_run(RunReport.from_dict(report), list(tests), hidden=hidden)


# --- history and export -----------------------------------------------------------------------


@cl.action_callback("history")
async def on_history(action: cl.Action) -> None:
    ctx = engine_context()
    attempts = await asyncio.to_thread(ctx.store.attempts, ctx.user_id)
    summary = await asyncio.to_thread(ctx.store.summary, ctx.user_id)
    elements: list[Any] = []
    if any(a.score is not None for a in attempts):
        figure = render.score_history_figure(attempts)
        elements.append(cl.Plotly(name="score-history", figure=figure, display="inline"))
    await cl.Message(
        content=render.history_markdown(summary, len(attempts)),
        elements=elements,
        actions=_actions("export_csv", "export_json", "start"),
    ).send()


async def _export(fmt: str) -> None:
    ctx = engine_context()
    buffer = io.StringIO()
    if fmt == "csv":
        rows = await asyncio.to_thread(ctx.store.attempts, ctx.user_id)
        count = f"{export_csv(rows, buffer)} attempts"
    else:
        sessions = await asyncio.to_thread(ctx.store.sessions, ctx.user_id)
        buffer.write(json.dumps(export_json(sessions), indent=2, ensure_ascii=False) + "\n")
        count = f"{len(sessions)} sessions"
    name = f"interview-bot-attempts.{fmt}"
    data = buffer.getvalue().encode()
    file = cl.File(name=name, content=data, display="inline", mime=f"text/{fmt}")
    await cl.Message(content=f"Exported {count}: **{name}**", elements=[file]).send()


@cl.action_callback("export_csv")
async def on_export_csv(action: cl.Action) -> None:
    await _export("csv")


@cl.action_callback("export_json")
async def on_export_json(action: cl.Action) -> None:
    await _export("json")


# --- the round timer --------------------------------------------------------------------------


async def _timer_loop(session: InterviewSession) -> None:
    while not session.state.ended:
        await asyncio.sleep(TICK_SECONDS)
        events = await _call(session.tick)
        if events:
            await _render(events)


def _stop_timer() -> None:
    task: asyncio.Task[None] | None = cl.user_session.get("timer")
    if task is not None:
        task.cancel()
        cl.user_session.set("timer", None)


# --- rendering ----------------------------------------------------------------------------------


async def _render(events: list[ev.Event]) -> None:
    for event in events:
        await _render_one(event)


async def _render_one(event: ev.Event) -> None:
    ctx = engine_context()
    session = _session()
    if isinstance(event, ev.QuestionAsked):
        await _clear_actions()
        if event.deadline is not None and session is not None:
            await _send_timer(ctx, session, event)
        msg = cl.Message(
            content=render.question_markdown(event), actions=_answer_actions(event.question)
        )
        await msg.send()
        cl.user_session.set("actions_msg", msg)
    elif isinstance(event, ev.Graded):
        await _clear_actions()
        await _stream_feedback(ctx, event)
    elif isinstance(event, ev.FollowUpAsked):
        await _clear_actions()
        msg = cl.Message(
            content=f"**Follow-up {event.number}/{event.total}:** {event.prompt}",
            actions=_actions("submit", "skip", "end"),
        )
        await msg.send()
        cl.user_session.set("actions_msg", msg)
    elif isinstance(event, ev.FollowUpGraded):
        await cl.Message(content=render.follow_up_markdown(event)).send()
    elif isinstance(event, ev.SessionEnded):
        _stop_timer()
        await _clear_actions()
        report = cl.File(
            name="interview-report.md",
            content=event.report.encode(),
            display="inline",
            mime="text/markdown",
        )
        await cl.Message(
            content=event.report, elements=[report], actions=_actions("history", "start")
        ).send()
    else:
        await cl.Message(content=_short(event)).send()


async def _send_timer(
    ctx: EngineContext, session: InterviewSession, event: ev.QuestionAsked
) -> None:
    """The round's countdown runs in the browser; the server keeps time on its own as well."""
    assert event.deadline is not None
    plan = ctx.bank.plans.get(session.state.plan_id or "")
    props = {
        "deadline": event.deadline.isoformat(),
        "round": f"Round {event.round_number}/{event.rounds_total}: {event.round_name}",
        "warnSeconds": (plan.warn_minutes if plan else 5) * 60,
    }
    timer = cl.CustomElement(name="RoundTimer", props=props, display="inline")
    await cl.Message(content="", elements=[timer]).send()


def _short(event: ev.Event) -> str:
    if isinstance(event, ev.ClarificationGiven):
        via = "" if event.source == "offline" else f" _(via {event.source})_"
        return f"**Interviewer:** {event.reply}{via}"
    if isinstance(event, ev.DraftNoted):
        return (
            f"_Noted: your answer has {event.words} words so far. Add more, or press **Submit**._"
        )
    if isinstance(event, ev.HintShown):
        return f"**Hint {event.number}/{event.total}:** {event.text}"
    if isinstance(event, ev.Skipped):
        saved = " Your partial answer is saved." if event.saved else ""
        return f"Skipped.{saved}"
    if isinstance(event, ev.TimerWarning):
        return f"**{event.minutes_left} min left** in the {event.round_name} round."
    if isinstance(event, ev.TimedOut):
        return (
            f"**Time is up** for the {event.round_name} round: your answer is submitted as it is."
        )
    if isinstance(event, ev.Notice):
        return event.text
    return str(event)


async def _stream_feedback(ctx: EngineContext, event: ev.Graded) -> None:
    tests = _tests_markdown(event.question, event.tests, hidden=True) if event.tests else None
    text = render.feedback_markdown(event, tests)
    msg = cl.Message(content="")
    for piece in render.chunks(text):
        await msg.stream_token(piece)
    await msg.update()
    # a step shows collapsed under the feedback: the reference is there when the candidate wants it
    async with cl.Step(name="Reference answer", type="retrieval", show_input=False) as step:
        step.output = render.reference_markdown(ctx.bank, event.question)


async def _clear_actions() -> None:
    previous: cl.Message | None = cl.user_session.get("actions_msg")
    if previous is not None:
        await previous.remove_actions()
        cl.user_session.set("actions_msg", None)
