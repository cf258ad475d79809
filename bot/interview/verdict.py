"""The hiring verdict of a mock interview: per round and overall, against a target level's bar.

Each rubric names the score a hire needs at each level (`hire_bar`: the pass mark of 60 says an
answer is acceptable, not that its author would be hired). A round's score is the mean of its
questions (a skipped question counts 0); the bands around the bar are those a hiring committee
uses. Overall, the mean of the rounds decides, but one "no hire" round caps the loop at "lean no"
and "strong hire" needs every round at "hire" or better: one bad round sinks a real loop too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import mean

from bot.content import ContentBank
from bot.content.models import TargetLevel
from bot.interview.state import Result, RoundState, SessionState

STRONG_HIRE, HIRE, LEAN_NO, NO_HIRE = "strong hire", "hire", "lean no", "no hire"
BAND = 10  # points above the bar for "strong hire", below it for "lean no"
ORDER = (NO_HIRE, LEAN_NO, HIRE, STRONG_HIRE)


@dataclass(frozen=True)
class RoundVerdict:
    name: str
    verdict: str
    score: float | None  # None when the round was never reached
    bar: int
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    level: TargetLevel
    overall: str
    score: float
    rounds: list[RoundVerdict]
    reasons: list[str]


def band(score: float, bar: int) -> str:
    if score >= bar + BAND:
        return STRONG_HIRE
    if score >= bar:
        return HIRE
    if score >= bar - BAND:
        return LEAN_NO
    return NO_HIRE


def mock_verdict(bank: ContentBank, state: SessionState) -> Verdict | None:
    """The verdict of a mock interview, or None for drills and single questions."""
    if state.mode != "mock" or not state.rounds:
        return None
    rounds = [_round(bank, state, r) for r in state.rounds]
    score = mean(r.score or 0.0 for r in rounds)
    bar = round(mean(r.bar for r in rounds))
    overall = band(score, bar)
    reasons = [f"Mean over {len(rounds)} rounds {score:.0f} against a {state.level} bar of {bar}."]
    if any(r.verdict == NO_HIRE for r in rounds) and ORDER.index(overall) > ORDER.index(LEAN_NO):
        overall = LEAN_NO
        reasons.append("One round below the bar by more than 10 points caps the loop at lean no.")
    if overall == STRONG_HIRE and any(ORDER.index(r.verdict) < ORDER.index(HIRE) for r in rounds):
        overall = HIRE
        reasons.append("Strong hire needs every round at hire or better.")
    return Verdict(state.level, overall, round(score, 1), rounds, reasons)


def _round(bank: ContentBank, state: SessionState, r: RoundState) -> RoundVerdict:
    results = [x for x in state.results if x.round_name == r.name]
    bar = _bar(bank, state, r, results)
    if not r.reached:
        return RoundVerdict(r.name, NO_HIRE, None, bar, ["Never reached: the time ran out first."])
    scores = [x.score or 0.0 for x in results]
    score = mean(scores) if scores else 0.0
    reasons = [f"Scored {score:.0f} against a {state.level} bar of {bar}."]
    reasons += _round_notes(bank, r, results)
    return RoundVerdict(r.name, band(score, bar), round(score, 1), bar, reasons)


def _round_notes(bank: ContentBank, r: RoundState, results: list[Result]) -> list[str]:
    notes: list[str] = []
    asked = {x.question_id for x in results}
    unasked = [q for q in r.planned if q not in asked]
    if unasked:
        notes.append(f"{len(unasked)} of {len(r.planned)} planned questions not reached.")
    skipped = sum(1 for x in results if x.score is None)
    if skipped:
        notes.append(f"{skipped} question(s) skipped or left ungraded (counted as 0).")
    if any(x.timed_out for x in results):
        notes.append("The round's time ran out during an answer.")
    missed = [
        kp.text
        for x in results
        if x.question_id in bank.questions
        for kp in bank.questions[x.question_id].key_points
        if kp.id in x.missed and kp.weight >= 2
    ]
    if missed:
        notes.append("Missed a core point: " + missed[0])
    return notes


def _bar(bank: ContentBank, state: SessionState, r: RoundState, results: list[Result]) -> int:
    """The hire bar of the rubric this round's questions use (their first one, else the kind's)."""
    ids = [x.question_id for x in results] + list(r.planned)
    rubric_id = next((bank.questions[q].rubric for q in ids if q in bank.questions), None)
    if rubric_id is None:
        rubric_id = next(
            (q.rubric for q in bank.questions.values() if q.kind == r.kind), "deep-dive"
        )
    return bank.rubric(rubric_id).hire_bar[state.level]
