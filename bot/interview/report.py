"""The end-of-session report: per round and competency, strengths, gaps and the next drills."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from statistics import mean

from bot.content import COMPETENCIES, ContentBank
from bot.grading.grade import STRENGTH_MARK, STRONG_MARK
from bot.interview.spacing import ReviewSchedule
from bot.interview.state import Result, SessionState
from bot.interview.verdict import Verdict, mock_verdict

TITLES = {"mock": "Mock interview", "drill": "Drill", "single": "Single question"}


def session_report(
    bank: ContentBank, state: SessionState, schedule: ReviewSchedule, now: datetime
) -> str:
    lines = [f"# {_title(bank, state)} — report", "", f"_{now:%Y-%m-%d %H:%M} UTC_", ""]
    if not state.results:
        return "\n".join([*lines, "No question was answered in this session."])
    lines += _rounds(bank, state.results)
    lines += _unreached(state)
    lines += _verdict(mock_verdict(bank, state))
    lines += _competencies(state.results)
    lines += _strengths(bank, state.results)
    lines += _gaps(bank, state.results)
    lines += _next_drills(bank, state.results, schedule, now)
    return "\n".join(lines).rstrip() + "\n"


def _title(bank: ContentBank, state: SessionState) -> str:
    if state.mode == "mock" and state.plan_id in bank.plans:
        return f"Mock interview: {bank.plans[state.plan_id].title}"
    if state.mode == "drill" and state.drill:
        return f"Drill: {state.drill.competency} {COMPETENCIES.get(state.drill.competency, '')}"
    return TITLES[state.mode]


def _score(r: Result) -> str:
    if r.unfinished:
        text = "unfinished (answer saved, not graded)"
    elif r.score is None:
        text = "skipped"
    else:
        text = f"{r.score:.0f}" + (" (timed out)" if r.timed_out else "")
    if r.tests is not None and r.tests[0] < r.tests[1]:
        text += f"; {r.tests[1] - r.tests[0]} of {r.tests[1]} hidden tests failed"
    return text


def _rounds(bank: ContentBank, results: list[Result]) -> list[str]:
    out = [
        "## Questions",
        "",
        "| # | Round | Question | Competency | Score | Hints | Time |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(results, start=1):
        title = bank.questions[r.question_id].title if r.question_id in bank.questions else ""
        minutes = str(timedelta(seconds=round(r.seconds)))
        out.append(
            f"| {i} | {r.round_name or r.kind.replace('_', ' ')} | {title} (`{r.question_id}`) "
            f"| {r.competency} | {_score(r)} | {r.hints_used} | {minutes} |"
        )
    graded = [r.score for r in results if r.score is not None]
    if graded:
        out += ["", f"**Overall: {mean(graded):.0f}/100** over {len(graded)} graded answer(s)."]
    return [*out, ""]


def _unreached(state: SessionState) -> list[str]:
    missed = [r for r in state.rounds if not r.reached]
    if state.mode != "mock" or not missed:
        return []
    names = ", ".join(f"{r.name} ({r.minutes} min)" for r in missed)
    return [f"**Rounds never reached:** {names}. A real loop would count them as not passed.", ""]


def _verdict(verdict: Verdict | None) -> list[str]:
    if verdict is None:
        return []
    out = [
        f"## Hiring verdict (target level: {verdict.level})",
        "",
        f"**{verdict.overall.capitalize()}.** " + " ".join(verdict.reasons),
        "",
        "| Round | Score | Hire bar | Verdict | Why |",
        "|---|---|---|---|---|",
    ]
    for r in verdict.rounds:
        score = "not reached" if r.score is None else f"{r.score:.0f}"
        out.append(f"| {r.name} | {score} | {r.bar} | {r.verdict} | {' '.join(r.reasons)} |")
    return [*out, ""]


def _competencies(results: list[Result]) -> list[str]:
    by: dict[str, list[float]] = {}
    for r in results:
        if r.score is not None:
            by.setdefault(r.competency, []).append(r.score)
    if not by:
        return []
    out = ["## By competency", ""]
    for comp, scores in sorted(by.items()):
        out.append(f"- **{comp}** {COMPETENCIES.get(comp, '')}: {mean(scores):.0f} ({len(scores)})")
    return [*out, ""]


def _key_point_texts(bank: ContentBank, r: Result, ids: list[str]) -> list[str]:
    question = bank.questions.get(r.question_id)
    if question is None:
        return []
    return [kp.text for kp in question.key_points if kp.id in ids]


def _strengths(bank: ContentBank, results: list[Result]) -> list[str]:
    out = ["## Strengths", ""]
    for r in results:
        if r.score is not None and r.score >= STRENGTH_MARK:
            for text in _key_point_texts(bank, r, r.covered)[:3]:
                out.append(f"- {text} (`{r.question_id}`)")
    if len(out) == 2:
        out.append(f"- No answer reached {STRENGTH_MARK} yet: start with the gaps below.")
    return [*out, ""]


def _gaps(bank: ContentBank, results: list[Result]) -> list[str]:
    out = ["## Gaps", ""]
    for r in results:
        for text in _key_point_texts(bank, r, r.missed):
            out.append(f"- {text} (`{r.question_id}`)")
    if len(out) == 2:
        out.append("- No key point was missed in the graded answers.")
    return [*out, ""]


def _next_drills(
    bank: ContentBank, results: list[Result], schedule: ReviewSchedule, now: datetime
) -> list[str]:
    weak: dict[str, list[float]] = {}
    tags: dict[str, Counter[str]] = {}
    for r in results:
        score = r.score if r.score is not None else 0.0
        if score < STRONG_MARK and r.question_id in bank.questions:
            weak.setdefault(r.competency, []).append(score)
            tags.setdefault(r.competency, Counter()).update(bank.questions[r.question_id].tags)
    out = ["## Next drills", ""]
    for comp in sorted(weak, key=lambda c: mean(weak[c])):
        top = ", ".join(t for t, _ in tags[comp].most_common(3))
        out.append(f"- Drill **{comp}** ({COMPETENCIES.get(comp, '')}), topics: {top}")
    soon = schedule.due(now + timedelta(days=1))
    if soon:
        out.append(f"- {len(soon)} review item(s) due within a day come first in your next drill.")
    if len(out) == 2:
        out.append(f"- Everything here scored {STRONG_MARK} or more: move up a difficulty level.")
    return out
