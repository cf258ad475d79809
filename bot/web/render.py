"""Engine events as chat Markdown. Pure functions: no Chainlit import, so they test plainly."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from bot.content import COMPETENCIES, ContentBank, Question
from bot.content.marks import strip_marks
from bot.grading.report import grade_markdown
from bot.interview import events as ev
from bot.interview.editor import fenced
from bot.interview.events import FollowUpGraded, Graded, QuestionAsked
from bot.interview.progress import Progress
from bot.store import RETRY_AFTER_FEEDBACK, AttemptRecord, CompetencySummary, ScorePoint

KIND_NAMES = {
    "coding": "Coding",
    "system_design": "System design",
    "llm_deep_dive": "LLM deep-dive",
    "behavioral": "Behavioral",
}


def question_markdown(event: QuestionAsked) -> str:
    q = event.question
    head = (
        f"Round {event.round_number}/{event.rounds_total}: {event.round_name} · "
        if (event.round_name)
        else f"Question {event.number} · "
    )
    meta = (
        f"{head}{KIND_NAMES[q.kind]} · {q.competency} {COMPETENCIES[q.competency]} · "
        f"difficulty {q.difficulty}/5 · about {q.suggested_minutes} min"
    )
    lines = [f"## {q.title}", f"_{meta}_  ", f"_Why this one: {event.reason}._", "", q.prompt]
    if q.coding is not None:
        lines += ["", "```python", q.coding.signature, "```", "", "**Examples**", ""]
        lines += [f"- `{_call(q, case)}` → `{case.expected!r}`" for case in q.coding.examples]
        lines += [
            "",
            "Write your code in the editor of the interview room (or upload a `.py` file) and "
            "explain your approach in the chat. **Run examples** runs the examples; **Submit** "
            "also runs the hidden tests.",
        ]
    elif q.kind == "system_design":
        lines += ["", "Ask clarifying questions first (end them with `?`), then design."]
    if event.resumed:
        lines += ["", "_Resumed where you left off._"]
        if event.draft:
            lines += ["", "Your answer so far:", "", _quote(event.draft)]
    return "\n".join(lines)


_BLOCK_START = re.compile(r"^\s*([-*+>|#]|\d+[.)]\s|```|~~~)")  # a line that starts a block
_BLOCK_WHOLE = re.compile(r"^\s*([|#]|```|~~~)")  # a block that is one line: nothing joins it


def reflow(text: str) -> str:
    """Markdown whose paragraphs were wrapped by hand (YAML block text), as flowing paragraphs:
    a line joins the one before unless it starts a block (list item, quote, table, heading,
    code) or follows a blank line, a heading, a table row or a hard break. Fenced code is kept."""
    out: list[str] = []
    fenced = False
    for line in text.splitlines():
        opens = line.lstrip().startswith(("```", "~~~"))
        joins = bool(
            not fenced
            and not opens
            and out
            and out[-1].strip()
            and line.strip()
            and not _BLOCK_START.match(line)
            and not _BLOCK_WHOLE.match(out[-1])
            and not out[-1].endswith("  ")
        )
        if joins:
            out[-1] = f"{out[-1].rstrip()} {line.strip()}"
        else:
            out.append(line)
        fenced = fenced != opens
    return "\n".join(out)


def example_lines(q: Question) -> list[str]:
    """A coding question's visible examples, one `call → expected` line each."""
    if q.coding is None:
        return []
    return [f"{_call(q, case)} → {case.expected!r}" for case in q.coding.examples]


def _call(q: Question, case: Any) -> str:
    assert q.coding is not None
    args = case.args if case.args is not None else [f"<{case.args_expr}>"]
    shown = ", ".join(repr(a) for a in args)
    if q.coding.style == "class":
        calls = "; ".join(f".{m}({', '.join(map(repr, a))})" for m, a in case.calls or [])
        return f"{q.coding.entry_point}({shown}) then {calls}"
    return f"{q.coding.entry_point}({shown})"


def code_markdown(code: str) -> str:
    """The editor's code as it was submitted, for the chat's record."""
    return f"**Submitted from the editor:**\n\n{fenced(code)}"


def _quote(text: str, limit: int = 1500) -> str:
    text = text if len(text) <= limit else text[:limit] + " …"
    return "\n".join(f"> {line}" for line in text.splitlines())


def feedback_markdown(event: Graded, tests_markdown: str | None = None) -> str:
    spent = str(timedelta(seconds=round(event.seconds)))
    timing = f"Time: {spent} · hints used: {event.hints_used}/{len(event.question.hints)}"
    if event.timed_out:
        timing += " · submitted at time-out"
    parts = [f"**Feedback on _{event.question.title}_**", "", timing, ""]
    if tests_markdown:
        parts += ["#### Hidden tests", "", tests_markdown, ""]
    parts.append(grade_markdown(event.grade))
    return "\n".join(parts)


def follow_up_markdown(event: FollowUpGraded) -> str:
    lines = [f"Updated score: **{event.grade.score:.0f}/100**."]
    if event.newly_covered:
        lines += ["", "Now covered:", *(f"- ✔ {t}" for t in event.newly_covered)]
    if event.still_missed:
        lines += ["", "Still missing:", *(f"- ✘ {t}" for t in event.still_missed)]
    return "\n".join(lines)


def reference_markdown(bank: ContentBank, question: Question) -> str:
    """The reference answer with its file and sources, for the collapsed side panel."""
    doc = bank.docs[question.reference]
    body = strip_marks(doc.body).strip()
    cites = [f"- `{doc.path}`", *(f"- {s}" for s in doc.doc.sources)]
    return "\n".join([body, "", "**Sources**", *cites])


def history_markdown(summary: dict[str, CompetencySummary], attempts: int) -> str:
    if not summary:
        return "No attempts yet: start a drill or a mock interview."
    lines = [
        f"### Score history ({attempts} attempt{'' if attempts == 1 else 's'})",
        "",
        "| Competency | Attempts | Graded | Mean | Trend (last 5 vs the 5 before) |",
        "|---|---|---|---|---|",
    ]
    for s in summary.values():
        mean = "—" if s.mean_score is None else f"{s.mean_score:.0f}"
        trend = "—" if s.trend is None else f"{s.trend:+.0f}"
        name = COMPETENCIES.get(s.competency, "")
        lines.append(f"| {s.competency} {name} | {s.attempts} | {s.graded} | {mean} | {trend} |")
    return "\n".join(lines)


def recent_attempts_markdown(
    attempts: Sequence[AttemptRecord | ScorePoint], limit: int = 10
) -> str:
    """The latest attempts, newest first; a retry made after seeing the key points is marked."""
    if not attempts:
        return ""
    lines = ["#### Latest attempts", "", "| When | Question | Score | |", "|---|---|---|---|"]
    for a in reversed(attempts[-limit:]):
        score = "—" if a.score is None else f"{a.score:.0f}"
        mark = f"_{RETRY_AFTER_FEEDBACK}_" if a.seen_key_points else ""
        lines.append(f"| {a.created_at:%Y-%m-%d %H:%M} | {a.question_id} | {score} | {mark} |")
    return "\n".join(lines)


CHART_FONT = "rgb(140, 140, 140)"  # readable on both themes; public/theme.css sets the theme's
PASS_COLOUR = "rgba(140, 140, 140, 0.9)"
# One colour per competency, the same in every chart: its line and its hire bar share it.
PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880")


def competency_colour(competency: str) -> str:
    order = list(COMPETENCIES)
    index = order.index(competency) if competency in order else len(order)
    return PALETTE[index % len(PALETTE)]


def score_history_figure(attempts: Iterable[AttemptRecord | ScorePoint], standing: Progress) -> Any:
    """Graded scores over time, one line per competency (named in full), with the pass mark and
    the target level's hire bar of each competency shown (`standing` holds both); transparent,
    so it sits on the chat's own background in either theme."""
    import plotly.graph_objects as go

    by: dict[str, list[AttemptRecord | ScorePoint]] = {}
    for a in attempts:
        if a.score is not None:
            by.setdefault(a.competency, []).append(a)
    fig = go.Figure()
    for comp, rows in sorted(by.items()):
        name = f"{comp} {COMPETENCIES.get(comp, '')}".strip()
        fig.add_trace(
            go.Scatter(
                x=[a.graded_at or a.created_at for a in rows],
                y=[a.score for a in rows],
                mode="lines+markers",
                name=name,
                line={"color": competency_colour(comp)},
                text=[a.question_id for a in rows],
                hovertemplate="%{text}<br>%{y:.0f}/100<extra>" + name + "</extra>",
            )
        )
    _mark_lines(fig, standing, sorted(by))
    fig.update_layout(
        title={"text": "Score per competency", "x": 0, "xanchor": "left"},
        yaxis={"range": [0, 100], "title": "score", "gridcolor": "rgba(128, 128, 128, 0.25)"},
        xaxis={"gridcolor": "rgba(128, 128, 128, 0.25)"},  # dates say what they are
        height=420,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"color": CHART_FONT},
        legend={"orientation": "h", "x": 0, "y": -0.12, "yanchor": "top"},
    )
    return fig


def voice_note(source: str, note: str) -> str:
    """Who worded an interviewer's line: nothing offline, the LLM's name, or why an LLM that was
    asked is not the one speaking."""
    if note:
        return f" _(offline wording: {note})_"
    return "" if source == "offline" else f" _(via {source})_"


def follow_up_line(event: ev.FollowUpAsked) -> str:
    note = voice_note(event.source, event.note)
    return f"**Follow-up {event.number}/{event.total}:** {reflow(event.prompt)}{note}"


def _mark_lines(fig: Any, standing: Progress, shown: Sequence[str]) -> None:
    """The pass line, and each shown competency's hire bar dashed in its colour, named once."""
    fig.add_hline(
        y=standing.pass_mark,
        line={"dash": "dot", "color": PASS_COLOUR, "width": 1.5},
        annotation={"text": f"pass {standing.pass_mark}"},
        annotation_position="bottom right",
    )
    bars = {r.competency: r.bar for r in standing.readiness if r.competency in shown}
    for competency, bar in bars.items():
        colour = competency_colour(competency)
        fig.add_hline(y=bar, line={"dash": "dash", "color": colour, "width": 1.5}, opacity=0.8)
    if bars:
        values = sorted(set(bars.values()))
        text = f"{standing.level} hire bar {values[0]}"
        if len(values) > 1:
            text = f"{standing.level} hire bar: " + " · ".join(f"{c} {b}" for c, b in bars.items())
        fig.add_hline(  # the label, once, above the highest bar
            y=values[-1],
            line={"width": 0},
            annotation={"text": text},
            annotation_position="top right",
        )


def short_markdown(event: ev.Event) -> str:
    """The one-line messages: clarifications, notes, hints, timer warnings, notices."""
    if isinstance(event, ev.ClarificationGiven):
        return f"**Interviewer:** {event.reply}{voice_note(event.source, event.note)}"
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


def chunks(text: str, size: int = 48) -> list[str]:
    """Pieces for streaming, cut at spaces where possible."""
    out, start = [], 0
    while start < len(text):
        end = min(start + size, len(text))
        cut = text.rfind(" ", start + 1, end) if end < len(text) else end
        end = cut + 1 if cut > start else end
        out.append(text[start:end])
        start = end
    return out
