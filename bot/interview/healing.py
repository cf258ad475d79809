"""After a crash: grade the answers that were submitted but never graded.

A submitted answer is stored (status SUBMITTED) before grading starts, so a server killed while
grading leaves it waiting. At the next start each one is graded with its session's grader; one
that cannot be (its question left the bank, the grader fails) is marked UNGRADED, and resuming
the session tells the candidate to submit it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.interview.attempt import Attempt
from bot.interview.context import EngineContext
from bot.store import UNGRADED, AttemptRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Healed:
    graded: int
    ungraded: int


def heal(ctx: EngineContext) -> Healed:
    """Grade every attempt left waiting for its grade (all users); count how it went."""
    graded = ungraded = 0
    for attempt in ctx.store.waiting_for_grade():
        if _grade(ctx, attempt):
            graded += 1
        else:
            ctx.store.set_status(attempt.id, UNGRADED)
            ungraded += 1
    if graded or ungraded:
        log.warning("after a restart: %d answers graded, %d left to resubmit", graded, ungraded)
    return Healed(graded, ungraded)


def _grade(ctx: EngineContext, attempt: AttemptRecord) -> bool:
    question = ctx.bank.questions.get(attempt.question_id)
    if question is None:
        return False
    state = ctx.store.load_session(attempt.session_id, user_id=attempt.user_id).state or {}
    choice = str(state.get("grader") or ctx.settings.grader)
    text = "\n\n".join([attempt.answer, *(a for _, a in ctx.store.follow_ups(attempt.id))])
    try:
        grader, rubric = ctx.grader(choice), ctx.bank.rubric(question.rubric)
        Attempt(ctx.store, attempt.id, question).grade(grader, rubric, text)
    except Exception:  # noqa: BLE001 - one failure must not stop the others; it is logged
        log.exception("grading attempt %s after a restart failed", attempt.id)
        return False
    return True
