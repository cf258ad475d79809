"""Where a candidate stands: a competency x difficulty map, readiness against a hiring bar, the
review queue in order of what matters most, and what to drill next.

Readiness is judged the way a loop would judge it: on each question's latest graded score (what
the candidate can do now, not their best day), against the target level's hire bar of the
rubrics that competency's questions use, and only once there is enough evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import mean
from typing import Protocol

from bot.content import COMPETENCIES, ContentBank
from bot.content.models import TargetLevel
from bot.grading.grade import HOLD_MARK, STRENGTH_MARK, STRONG_MARK
from bot.interview.context import EngineContext
from bot.interview.spacing import DueItem

MIN_EVIDENCE = 3  # questions with a graded answer before a competency can be called ready
CLOSE = 10  # points under the bar that still count as close
REVIEW_CAP = 10  # review items shown; the rest wait, counted
FREQUENCY_WEIGHT = {"high": 3.0, "medium": 2.0, "low": 1.0}


class AttemptLike(Protocol):
    @property
    def question_id(self) -> str: ...
    @property
    def competency(self) -> str: ...
    @property
    def difficulty(self) -> int: ...
    @property
    def score(self) -> float | None: ...
    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True)
class Cell:
    attempts: int = 0
    best: float | None = None


@dataclass(frozen=True)
class Readiness:
    competency: str
    name: str
    score: float | None  # mean of each question's latest graded score
    bar: int
    answered: int  # questions with a graded answer
    pool: int  # questions in the bank for this competency
    status: str  # ready, close, not yet, no evidence


@dataclass(frozen=True)
class ReviewEntry:
    question_id: str
    title: str
    key_point: str | None  # its text; None for the whole question
    due: datetime
    priority: float


@dataclass(frozen=True)
class Progress:
    level: TargetLevel
    grid: dict[str, dict[int, Cell]]
    readiness: list[Readiness]
    review: list[ReviewEntry]
    review_waiting: int  # due items beyond the cap
    next_drill: str
    rules: str
    pass_mark: int  # the rubrics' pass mark (the lowest, should they ever differ)


def user_progress(ctx: EngineContext, level: TargetLevel = "mid") -> Progress:
    """The progress of the context's user, now."""
    now = ctx.clock()
    points = ctx.store.score_points(ctx.user_id)  # scores only: no answer text is read
    return progress(ctx.bank, points, ctx.schedule.due(now), now, level)


def progress(
    bank: ContentBank,
    attempts: Sequence[AttemptLike],
    due: Sequence[DueItem],
    now: datetime,
    level: TargetLevel = "mid",
) -> Progress:
    grid = _grid(attempts)
    readiness = [_readiness(bank, c, attempts, level) for c in COMPETENCIES]
    review = sorted(
        (_entry(bank, d, now) for d in due if d.question_id in bank.questions),
        key=lambda e: -e.priority,
    )
    return Progress(
        level=level,
        grid=grid,
        readiness=readiness,
        review=review[:REVIEW_CAP],
        review_waiting=max(0, len(review) - REVIEW_CAP),
        next_drill=_next_drill(readiness, review),
        rules=_rules(bank, level),
        pass_mark=min((r.pass_mark for r in bank.rubrics.values()), default=60),
    )


def _rules(bank: ContentBank, level: TargetLevel) -> str:
    """The marks a candidate meets, in plain words, from their one source each."""
    passes = sorted({r.pass_mark for r in bank.rubrics.values()})
    bars = sorted({r.hire_bar[level] for r in bank.rubrics.values()})
    pass_text = "-".join(str(p) for p in (passes[0], passes[-1]) if p) if passes else "60"
    bar_text = f"{bars[0]}-{bars[-1]}" if bars and bars[0] != bars[-1] else str(bars[0])
    return (
        f"An answer passes at {pass_text} (the rubric's pass mark); the report counts it as a "
        f"strength from {STRENGTH_MARK:.0f}. A drill moves up a level at {STRONG_MARK} or more, "
        f"stays at {HOLD_MARK}-{STRONG_MARK - 1} with a question aimed at what you missed, and "
        f"steps back below {HOLD_MARK}; scores are rounded to whole points once, for both what "
        f"you see and what decides. Passing is not hiring: at the {level} level a hire needs "
        f"{bar_text} depending on the round, the bar readiness and the mock verdict use. Each "
        "hint taken costs a few points, as an interviewer notes every nudge."
    )


def _grid(attempts: Sequence[AttemptLike]) -> dict[str, dict[int, Cell]]:
    grid: dict[str, dict[int, Cell]] = {c: {d: Cell() for d in range(1, 6)} for c in COMPETENCIES}
    for a in attempts:
        row = grid.setdefault(a.competency, {d: Cell() for d in range(1, 6)})
        cell = row[a.difficulty]
        best = cell.best if a.score is None else max(cell.best or 0.0, a.score)
        row[a.difficulty] = Cell(cell.attempts + 1, best)
    return grid


def _readiness(
    bank: ContentBank, competency: str, attempts: Sequence[AttemptLike], level: TargetLevel
) -> Readiness:
    pool = [q for q in bank.questions.values() if q.competency == competency]
    latest: dict[str, float] = {}
    for a in sorted(attempts, key=lambda a: a.created_at):
        if a.competency == competency and a.score is not None:
            latest[a.question_id] = a.score
    rubrics = {q.rubric for q in pool} or {"deep-dive"}
    bar = round(mean(bank.rubric(r).hire_bar[level] for r in rubrics))
    score = round(mean(latest.values()), 1) if latest else None
    if score is None or len(latest) < MIN_EVIDENCE:
        status = "no evidence" if not latest else "too few answers"
    elif score >= bar:
        status = "ready"
    elif score >= bar - CLOSE:
        status = "close"
    else:
        status = "not yet"
    name = COMPETENCIES.get(competency, competency)
    return Readiness(competency, name, score, bar, len(latest), len(pool), status)


def _entry(bank: ContentBank, item: DueItem, now: datetime) -> ReviewEntry:
    """Priority: the missed point's weight, how often the question comes up in interviews, and
    how overdue the review is (a point missed long ago and never reviewed matters more)."""
    question = bank.questions[item.question_id]
    kp = next((k for k in question.key_points if k.id == item.key_point), None)
    overdue_days = max(0.0, (now - item.due).total_seconds() / 86400)
    weight = kp.weight if kp else max(k.weight for k in question.key_points)
    priority = weight * FREQUENCY_WEIGHT[question.interview_frequency] * (1 + overdue_days) ** 0.5
    return ReviewEntry(question.id, question.title, kp.text if kp else None, item.due, priority)


def _next_drill(readiness: list[Readiness], review: list[ReviewEntry]) -> str:
    """The competency furthest from its bar with some evidence, else the first untried one."""
    tried = [r for r in readiness if r.score is not None and r.status != "ready"]
    if tried:
        worst = min(tried, key=lambda r: (r.score or 0.0) - r.bar)
        return (
            f"Drill {worst.competency} ({worst.name}): {worst.score:.0f} against a bar of "
            f"{worst.bar}" + (f"; {len(review)} review item(s) come first" if review else "")
        )
    untried = [r for r in readiness if r.score is None]
    if untried:
        return f"Start a drill in {untried[0].competency} ({untried[0].name}): no answer yet."
    return "Every competency is at the bar: try a mock interview at the next level up."


def progress_markdown(p: Progress) -> str:
    """The progress page as Markdown (the chat and the CLI render the same text)."""
    lines = [f"### Your progress (target level: {p.level})", "", p.next_drill, ""]
    lines += ["#### Readiness", "", "| Competency | Score | Hire bar | Answered | Status |"]
    lines.append("|---|---|---|---|---|")
    for r in p.readiness:
        score = "-" if r.score is None else f"{r.score:.0f}"
        lines.append(
            f"| {r.competency} {r.name} | {score} | {r.bar} | {r.answered} of {r.pool} "
            f"| {r.status} |"
        )
    lines += ["", "#### Best score by difficulty (attempts)", ""]
    lines += ["| Competency | 1 | 2 | 3 | 4 | 5 |", "|---|---|---|---|---|---|"]
    for competency, row in p.grid.items():
        cells = [
            "-"
            if c.attempts == 0
            else f"{c.best:.0f} ({c.attempts})"
            if c.best is not None
            else f"ungraded ({c.attempts})"
            for _, c in sorted(row.items())
        ]
        lines.append(f"| {competency} | " + " | ".join(cells) + " |")
    lines += ["", "#### Review queue (most important first)", ""]
    for e in p.review:
        what = f"\u201c{e.key_point}\u201d" if e.key_point else "the whole question"
        lines.append(f"- {e.title} (`{e.question_id}`): {what}")
    if not p.review:
        lines.append("- Nothing is due for review.")
    if p.review_waiting:
        lines.append(f"- {p.review_waiting} more wait until these are done.")
    lines += ["", "#### How the numbers work", "", p.rules, ""]
    return "\n".join(lines)
