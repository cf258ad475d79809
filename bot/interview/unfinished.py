"""The sessions a candidate left open: what each one is, in a line, and discarding one.

A session stays open until it ends; a closed tab, a restart or a new Start leaves it open, so
the candidate sees every such session with a way to resume it or discard it, never only the
newest. Discarding ends the session where it stands: its graded answers stay in the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from bot.content import COMPETENCIES
from bot.interview.context import EngineContext
from bot.interview.state import SessionState
from bot.store import SessionRecord

MODE_NAMES = {"drill": "Drill", "mock": "Mock interview", "single": "Single question"}


@dataclass(frozen=True)
class Unfinished:
    id: str
    started_at: datetime
    summary: str  # e.g. "Mock interview 'standard', round 2/3 System design: <title>"
    answered: int  # questions finished so far


def unfinished_sessions(ctx: EngineContext) -> list[Unfinished]:
    """The context user's open sessions, newest first, each said in a line."""
    return [_describe(ctx, r) for r in ctx.store.open_sessions(ctx.user_id)]


def is_open(ctx: EngineContext, session_id: str) -> bool:
    """Whether `session_id` is one of the context user's open sessions."""
    return session_id in ctx.store.open_session_ids(ctx.user_id)


def discard(ctx: EngineContext, session_id: str) -> bool:
    """End the user's open session `session_id` as it stands; False when it was not open
    (already ended, someone else's, or unknown): nothing changes then."""
    if not is_open(ctx, session_id):
        return False
    ctx.store.end_session(session_id, user_id=ctx.user_id)
    return True


def _describe(ctx: EngineContext, record: SessionRecord) -> Unfinished:
    try:
        state = SessionState.model_validate(record.state or {})
    except ValidationError:  # a state an older version saved: say what the row knows
        name = MODE_NAMES.get(record.mode, record.mode)
        return Unfinished(record.id, record.started_at, name, 0)
    return Unfinished(record.id, record.started_at, _summary(ctx, state), len(state.results))


def _summary(ctx: EngineContext, state: SessionState) -> str:
    head = MODE_NAMES.get(state.mode, state.mode)
    if state.mode == "mock":
        head += f" '{state.plan_id}' at the {state.level} bar"
        if state.rounds:
            index = min(state.round_index, len(state.rounds) - 1)
            if state.current is not None and state.current.round_index is not None:
                index = state.current.round_index
            head += f", round {index + 1}/{len(state.rounds)} {state.rounds[index].name}"
    elif state.mode == "drill" and state.drill is not None:
        competency = state.drill.competency
        head += f" {competency} {COMPETENCIES.get(competency, '')}".rstrip()
    current = state.current
    question = ctx.bank.questions.get(current.question_id) if current else None
    if question is not None:
        head += f": {question.title}"
    elif state.on_break:
        head += ": between rounds"
    return head
