"""Which question comes next: the drill's progression rule, due reviews, and mock-round picks.

Progression (from the roadmap): a score of 80 or more moves up (a question the last one unlocks,
or the next difficulty), 60-79 stays at the level with a remedial question aimed at the missed
key points, below 60 goes back to a prerequisite (or an easier question). Due spaced-repetition
items come before any of that. Ties are broken by interview frequency, then by a random draw
seeded with the session id, so a session is reproducible and two sessions differ.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from bot.content import ContentBank, KeyPoint, Question
from bot.content.select import practice_pool
from bot.grading.grade import HOLD_MARK, STRONG_MARK, whole
from bot.interview.spacing import DueItem
from bot.interview.state import DrillSpec, Result, RoundState
from bot.text import content_stems

FREQUENCY = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class Choice:
    question: Question
    reason: str


def drill_pool(bank: ContentBank, spec: DrillSpec) -> list[Question]:
    return practice_pool(bank.questions, competency=spec.competency, tag=spec.tag)


def next_drill_question(
    bank: ContentBank,
    spec: DrillSpec,
    results: list[Result],
    due: list[DueItem],
    *,
    seen_before: Iterable[str] = (),
    seed: str = "",
) -> Choice | None:
    """The next drill question, or None when the pool is used up."""
    asked = {r.question_id for r in results}
    pool = [q for q in drill_pool(bank, spec) if q.id not in asked]
    if not pool:
        return None
    rng = random.Random(f"{seed}:{len(results)}")
    by_id = {q.id: q for q in pool}
    for item in due:
        if item.question_id in by_id:
            return Choice(by_id[item.question_id], _due_reason(bank, item))
    graded = [r for r in results if r.score is not None]
    if not graded:
        start = spec.difficulty or 2
        fresh = [q for q in pool if q.id not in set(seen_before)] or pool
        return Choice(_nearest(fresh, start, rng), f"a level-{start} start")
    last = graded[-1]
    score = whole(last.score or 0.0)
    if score >= STRONG_MARK:
        return _move_up(pool, last, rng)
    if score >= HOLD_MARK:
        return _remedial(bank, pool, last)
    return _step_back(bank, pool, last, rng)


SHARED = 0.3  # share of a missed point's words another question's key points must hold to target it
FILL = 0.7  # a round's questions should fill at least this share of its minutes


def plan_round(
    bank: ContentBank,
    round_: RoundState,
    difficulty: int,
    asked: set[str],
    *,
    seen_before: Iterable[str] = (),
    seed: str = "",
) -> list[Choice]:
    """The questions a round asks, in order, chosen to fit its minutes as a real round would.

    The first question is the one nearest the target difficulty that fits the round (a 40-minute
    design round does not open a 45-minute question); more follow, nearest in difficulty and
    different in topic, while they fit in the minutes left, so a 30-minute deep dive asks two or
    three questions and a behavioral round two or three stories."""
    pool = practice_pool(
        bank.questions,
        kind=round_.kind,
        competencies=round_.competencies,
        tag=round_.tag,
        exclude=asked,
    )
    if not pool:
        raise LookupError(f"no {round_.kind} question left for round '{round_.name}'")
    seen = set(seen_before)
    target = round_.difficulty or difficulty
    rng = random.Random(f"{seed}:{round_.name}")
    fits = [q for q in pool if q.suggested_minutes <= round_.minutes] or [
        min(pool, key=lambda q: q.suggested_minutes)
    ]
    first = _nearest(_fresh(fits, seen), target, rng)
    picked = _fill(first, pool, round_.minutes, seen, target, rng)
    long_enough = [q for q in fits if q.suggested_minutes >= FILL * round_.minutes]
    if sum(q.suggested_minutes for q in picked) < FILL * round_.minutes and long_enough:
        first = _nearest(_fresh(long_enough, seen), target, rng)  # one question that fills it
        picked = _fill(first, pool, round_.minutes, seen, target, rng)
    reason = f"{round_.name} round, difficulty {target}"
    return [
        Choice(q, reason if len(picked) == 1 else f"{reason}, question {i} of {len(picked)}")
        for i, q in enumerate(picked, start=1)
    ]


def _fill(
    first: Question,
    pool: list[Question],
    minutes: int,
    seen: set[str],
    target: int,
    rng: random.Random,
) -> list[Question]:
    """`first`, then questions nearest `target` on other topics while they fit in the minutes."""
    picked, left = [first], minutes - first.suggested_minutes
    while True:
        fit = [q for q in pool if q not in picked and q.suggested_minutes <= left]
        tags = {t for q in picked for t in q.tags}
        other = [q for q in fit if not tags & set(q.tags)] or fit
        if not other:
            return picked
        nxt = _nearest(_fresh(other, seen), target, rng)
        picked.append(nxt)
        left -= nxt.suggested_minutes


def _fresh(pool: list[Question], seen: set[str]) -> list[Question]:
    """The questions of `pool` this user has not seen before, or all of them if none is new."""
    return [q for q in pool if q.id not in seen] or pool


def _move_up(pool: list[Question], last: Result, rng: random.Random) -> Choice:
    band = f"You scored {whole(last.score or 0.0)} (>= {STRONG_MARK})"
    unlocked = [q for q in pool if last.question_id in q.prerequisites]
    if unlocked:
        return Choice(_ranked(unlocked, rng)[0], f"{band}: a topic it unlocks")
    harder = min(last.difficulty + 1, 5)
    chosen = _nearest(pool, harder, rng)
    return Choice(chosen, f"{band}: moving up to level {chosen.difficulty}{_gap(chosen, harder)}")


def _remedial(bank: ContentBank, pool: list[Question], last: Result) -> Choice:
    """Same level; the question whose key points best overlap the ones just missed."""
    previous = bank.questions.get(last.question_id)
    missed_text = " ".join(
        kp.text for kp in (previous.key_points if previous else []) if kp.id in last.missed
    )
    wanted = set(content_stems(missed_text))
    level = [q for q in pool if q.difficulty == last.difficulty] or pool

    def aim(q: Question) -> float:
        theirs = set(content_stems(" ".join(kp.text for kp in q.key_points) + " " + q.title))
        return len(wanted & theirs) / (len(wanted) or 1)

    best = max(level, key=lambda q: (aim(q), -abs(q.difficulty - last.difficulty)))
    band = f"You scored {whole(last.score or 0.0)} ({HOLD_MARK}-{STRONG_MARK - 1})"
    missed = [kp for kp in (previous.key_points if previous else []) if kp.id in last.missed]
    targets = _shared_points(best, missed)
    if not targets:
        return Choice(best, f"{band}: same level; no other question covers what you missed")
    return Choice(best, f"{band}: same level, this one targets {', '.join(targets)}")


def _step_back(bank: ContentBank, pool: list[Question], last: Result, rng: random.Random) -> Choice:
    previous = bank.questions.get(last.question_id)
    band = f"You scored {whole(last.score or 0.0)} (< {HOLD_MARK})"
    prereqs = [q for q in pool if previous and q.id in previous.prerequisites]
    if prereqs:
        return Choice(_ranked(prereqs, rng)[0], f"{band}: back to a prerequisite")
    easier = max(last.difficulty - 1, 1)
    chosen = _nearest(pool, easier, rng)
    return Choice(chosen, f"{band}: back to level {chosen.difficulty}{_gap(chosen, easier)}")


def _gap(chosen: Question, wanted: int) -> str:
    """Why the level differs from the rule's, when it does."""
    if chosen.difficulty == wanted:
        return ""
    return f" (no question left at level {wanted} in this pool)"


def _shared_points(question: Question, missed: list[KeyPoint]) -> list[str]:
    """The missed points (by a short name) that `question`'s key points also cover."""
    theirs = set(content_stems(" ".join(kp.text for kp in question.key_points)))
    shared = []
    for kp in missed:
        mine = set(content_stems(kp.text))
        if mine and len(mine & theirs) / len(mine) >= SHARED:
            shared.append(kp.id.replace("-", " "))
    return shared


def _nearest(pool: list[Question], difficulty: int, rng: random.Random) -> Question:
    gap = min(abs(q.difficulty - difficulty) for q in pool)
    # prefer the harder side only when nothing is at the level: ties go to the easier question
    level = [q for q in pool if abs(q.difficulty - difficulty) == gap]
    lowest = min(q.difficulty for q in level)
    return _ranked([q for q in level if q.difficulty == lowest], rng)[0]


def _ranked(pool: list[Question], rng: random.Random) -> list[Question]:
    shuffled = sorted(pool, key=lambda q: q.id)
    rng.shuffle(shuffled)
    return sorted(shuffled, key=lambda q: FREQUENCY[q.interview_frequency])


def _due_reason(bank: ContentBank, item: DueItem) -> str:
    if item.key_point is None:
        return "due for review (spaced repetition)"
    question = bank.questions[item.question_id]
    text = next((kp.text for kp in question.key_points if kp.id == item.key_point), item.key_point)
    return f"due for review: you missed \u201c{text}\u201d"
