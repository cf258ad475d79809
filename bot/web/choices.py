"""The chat settings: widgets, their defaults, and starting the session they describe."""

from __future__ import annotations

from typing import Any

from chainlit.input_widget import Select, Slider, TextInput

from bot.config import GRADER_CHOICES
from bot.content import COMPETENCIES
from bot.content.models import TARGET_LEVELS, RoundPlan
from bot.errors import BotError
from bot.interview import EngineContext, InterviewSession
from bot.interview import events as ev

MODES = {"drill": "Drill one competency", "mock": "Mock interview", "single": "Single question"}


def widgets(ctx: EngineContext) -> list[Any]:
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
        Select(
            id="level",
            label="Mock target level (the hiring bar of the verdict)",
            values=list(TARGET_LEVELS),
            initial_value=DEFAULTS["level"],
        ),
        TextInput(id="question", label="Single question id", initial=""),
        Select(id="grader", label="Grader", values=list(GRADER_CHOICES), initial_value="auto"),
    ]


def _plan_label(plan: RoundPlan) -> str:
    rounds = ", ".join(f"{r.name} {r.minutes}" for r in plan.rounds)
    return f"{plan.title} ({rounds} min)"


def welcome(settings: dict[str, Any], can_resume: bool) -> str:
    lines = [
        "**Welcome to interview-bot.** Practise mock interviews and drills; every answer is "
        "scored against a rubric and its key points, with quotes from your answer as evidence.",
        "",
        f"Current choice: **{describe(settings)}**. Change it in the settings (the gear by the "
        "message box), then press **Start**.",
    ]
    if can_resume:
        lines += ["", "You have an unfinished session: **Resume** picks it up where you left it."]
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
