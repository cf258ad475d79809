"""The chat settings: widgets, their defaults, and starting the session they describe."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import chainlit as cl
from chainlit.input_widget import Select, Slider, TextInput

from bot.config import GRADER_CHOICES
from bot.content import COMPETENCIES
from bot.content.models import TARGET_LEVELS, RoundPlan
from bot.errors import BotError
from bot.interview import EngineContext, InterviewSession
from bot.interview import events as ev

MODES = {"drill": "Drill one competency", "mock": "Mock interview", "single": "Single question"}
# The fields each mode shows, in order; the others stay as they were, hidden. Chainlit cannot
# hide a widget, so a change of mode sends the new mode's widgets again (`refresh`).
FIELDS: dict[str, tuple[str, ...]] = {
    "drill": ("mode", "competency", "tag", "difficulty", "level", "grader"),
    "mock": ("mode", "plan", "minutes", "level", "grader"),
    "single": ("mode", "question", "level", "grader"),
}


def widgets(ctx: EngineContext, settings: dict[str, Any] | None = None) -> list[Any]:
    """The widgets of the chosen mode, each starting at its value in `settings`."""
    s = valid(ctx, settings)
    every = _every_widget(ctx, s)
    return [every[name] for name in FIELDS[s["mode"]]]


def _every_widget(ctx: EngineContext, s: dict[str, Any]) -> dict[str, Any]:
    plans = sorted(ctx.bank.plans.values(), key=lambda p: p.id)
    found = [
        Select(id="mode", label="Mode", items={v: k for k, v in MODES.items()}),
        Select(
            id="competency",
            label="Drill competency",
            items={f"{c} {name}": c for c, name in COMPETENCIES.items()},
        ),
        TextInput(id="tag", label="Drill topic tag (optional)"),
        Slider(id="difficulty", label="Starting difficulty", min=1, max=5, step=1),
        Select(id="plan", label="Mock plan", items={_plan_label(p): p.id for p in plans}),
        TextInput(id="minutes", label="Round minutes (e.g. 35,40,30; empty = the plan's)"),
        Select(
            id="level",
            label="Target level (the hire bar of your progress and of a mock's verdict)",
            values=list(TARGET_LEVELS),
        ),
        TextInput(id="question", label="Single question id"),
        Select(id="grader", label="Grader", values=list(GRADER_CHOICES)),
    ]
    for widget in found:
        widget.initial = s[widget.id]
    return {w.id: w for w in found}


def _options(ctx: EngineContext) -> dict[str, list[Any]]:
    """The values a select may hold."""
    return {
        "mode": list(MODES),
        "competency": list(COMPETENCIES),
        "plan": list(ctx.bank.plans),
        "level": list(TARGET_LEVELS),
        "grader": list(GRADER_CHOICES),
    }


def valid(ctx: EngineContext, settings: dict[str, Any] | None) -> dict[str, Any]:
    """`settings` completed by the defaults, a value no longer on offer (a plan that was
    removed, say) replaced by its default."""
    s = clean(settings)
    for name, allowed in _options(ctx).items():
        if s[name] not in allowed:
            s[name] = DEFAULTS[name] if DEFAULTS[name] in allowed else allowed[0]
    return s


def merge(current: dict[str, Any] | None, sent: dict[str, Any]) -> dict[str, Any]:
    """The settings after the browser sent `sent` (the shown fields only; an emptied field is
    None and goes back to its default); the hidden fields keep their values."""
    known = {k: (DEFAULTS[k] if v is None else v) for k, v in sent.items() if k in DEFAULTS}
    return {**clean(current), **known}


async def refresh(ctx: EngineContext, settings: dict[str, Any], shown: Iterable[str]) -> None:
    """Show the fields of `settings`' mode when the browser's panel has other fields (`shown`,
    the names it sent: the panel's Cancel can bring back another mode's fields unseen)."""
    s = valid(ctx, settings)
    if set(shown) != set(FIELDS[s["mode"]]):
        await cl.ChatSettings(widgets(ctx, s)).refresh()


async def show(ctx: EngineContext, settings: dict[str, Any]) -> None:
    """Send the settings panel for `settings` (at the start of a chat)."""
    await cl.ChatSettings(widgets(ctx, valid(ctx, settings))).send()


def _plan_label(plan: RoundPlan) -> str:
    rounds = ", ".join(f"{r.name} {r.minutes}" for r in plan.rounds)
    return f"{plan.title} ({rounds} min)"


def welcome(settings: dict[str, Any], unfinished: str = "") -> str:
    """The first message; `unfinished` lists the sessions the candidate left open."""
    lines = [
        "**Welcome to interview-bot.** Practise mock interviews and drills; every answer is "
        "scored against a rubric and its key points, with quotes from your answer as evidence.",
        "",
        f"Current choice: **{describe(settings)}**. Change it in the settings (the gear by the "
        "message box), then press **Start**.",
    ]
    if unfinished:
        lines += ["", unfinished, "", "**Resume** picks one up where you left it."]
    return "\n".join(lines)


def describe(raw: dict[str, Any]) -> str:
    s = clean(raw)
    if s["mode"] == "drill":
        tag = f", tag {s['tag']}" if s["tag"] else ""
        name = COMPETENCIES.get(s["competency"], "")
        return f"Drill {s['competency']} {name}{tag}, from difficulty {int(s['difficulty'])}"
    if s["mode"] == "mock":
        return f"Mock interview, plan '{s['plan']}', judged at the {s['level']} bar"
    return f"Single question '{s['question'] or '(type an id in the settings)'}'"


DEFAULTS: dict[str, Any] = {
    "mode": "drill",
    "competency": "C3",
    "tag": "",
    "difficulty": 2,
    "plan": "standard",
    "minutes": "",
    "level": "mid",
    "question": "",
    "grader": "auto",
}


def clean(settings: dict[str, Any] | None) -> dict[str, Any]:
    """The browser sends None for an empty field: fall back to the defaults."""
    given = {k: v for k, v in (settings or {}).items() if v is not None}
    return {**DEFAULTS, **given}


def start(ctx: EngineContext, raw: dict[str, Any]) -> tuple[InterviewSession, list[ev.Event]]:
    s = clean(raw)
    if s["mode"] == "mock":
        minutes = parse_minutes(str(s["minutes"]))
        return InterviewSession.start_mock(
            ctx, s["plan"], minutes=minutes, grader=s["grader"], level=s["level"]
        )
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


def parse_minutes(text: str) -> list[int] | None:
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    if not parts:
        return None
    if not all(p.isdigit() and 1 <= int(p) <= 120 for p in parts):
        raise BotError(
            f"round minutes must be whole numbers from 1 to 120, like 35,40,30 (got {text!r})"
        )
    return [int(p) for p in parts]
