"""A Grade as readable text (the CLI) or Markdown (the chat)."""

from __future__ import annotations

from bot.grading.grade import Grade, SetAside

MARK = {"covered": "[x]", "partial": "[~]", "missed": "[ ]", "contradicted": "[!]"}
ICON = {"covered": "✔", "partial": "◐", "missed": "✘", "contradicted": "⚠"}
SET_ASIDE_SHOWN = 5
# What an offline grade is and is not, said with every offline grade.
OFFLINE_SCOPE = (
    "The offline grader checks which key points the answer makes in its own words, catches the "
    "question's known misconceptions, key points said backwards and figures the reference answer "
    "gives otherwise, and sets aside copies, "
    "repeats, lists of terms and text addressed to the grader; it does not judge whether the "
    "reasoning is right. An LLM grader can (see Configuration in the README)."
)
WHY = {
    "injected": "addressed to the grader",
    "copied": "copied",
    "list of terms": "a list of terms, not an explanation",
    "repeated": "a repeat",
    "too long": "past the length that is graded",
}


def set_aside_lines(grade: Grade) -> list[str]:
    """The parts of the answer that earned nothing, each with why (repeats counted once)."""
    parts = [p for p in grade.set_aside if p.reason != "repeated"][:SET_ASIDE_SHOWN]
    lines = [f"{_why(p)}: \u201c{p.text}\u201d" for p in parts]
    repeats = sum(p.reason == "repeated" for p in grade.set_aside)
    if repeats:
        lines.append(f"{repeats} repeated sentence(s), counted once")
    return lines


def _why(part: SetAside) -> str:
    why = WHY.get(part.reason, part.reason)
    return f"{why} from {part.source}" if part.reason == "copied" and part.source else why


def render_grade(grade: Grade) -> str:
    verdict = "pass" if grade.passed else "below the pass mark"
    lines = [f"Score: {grade.score:.0f}/100 ({verdict}) - grader: {_grader(grade)}", ""]
    lines.append("Criteria:")
    for c in grade.criteria:
        lines.append(f"  {c.name:<32} level {c.level}/4 ({c.label}) weight {c.weight:g}")
        lines.extend(f'      "{quote}"' for quote in c.evidence[:1])
    lines += ["", "Key points:"]
    for k in grade.key_points:
        lines.append(f"  {MARK[k.status]} {k.text}")
        if k.evidence:
            lines.append(f'        "{k.evidence}"')
        if k.correction:
            lines.append(f"        wrong: {k.correction}")
    flags = [f'"{f.quote}" - {f.correction}' for f in grade.red_flags]
    for title, items in (
        ("Red flags", flags),
        ("Strengths", grade.strengths),
        ("To improve", grade.improvements),
        ("Notes", grade.notes),
        ("Set aside, earned nothing", set_aside_lines(grade)),
    ):
        if items:
            lines += ["", f"{title}:"] + [f"  - {item}" for item in items]
    if grade.follow_up:
        lines += ["", f"Follow-up: {grade.follow_up}"]
    if grade.grader.name == "offline":
        lines += ["", OFFLINE_SCOPE]
    return "\n".join(lines)


def _grader(grade: Grade) -> str:
    g = grade.grader
    text = f"{g.name} ({g.model}, {g.version})"
    if g.fallback_reason:
        text += f" - fell back: {g.fallback_reason}"
    return text


def grade_markdown(grade: Grade) -> str:
    """Markdown for the chat: score, criteria table, key points with quotes."""
    verdict = "✔ pass" if grade.passed else "✘ below the pass mark"
    out = [
        f"### Score: {grade.score:.0f}/100 — {verdict}",
        "",
        "| Criterion | Level | Evidence |",
        "|---|---|---|",
    ]
    shown: set[str] = set()
    for c in grade.criteria:
        out.append(f"| {c.name} | {c.level}/4 {c.label} | {_fresh_quote(c.evidence, shown)} |")
    out += ["", "**Key points**"]
    for k in grade.key_points:
        quote = f" — “{k.evidence}”" if k.evidence else ""
        fix = f" **Wrong:** {k.correction}" if k.correction else ""
        out.append(f"- {ICON[k.status]} {k.text}{quote}{fix}")
    if grade.red_flags:
        out += ["", "**Red flags — what an interviewer would stop you on**"]
        out += [f"- ⚠ “{_escape(f.quote)}” — {f.correction}" for f in grade.red_flags]
    if grade.notes:
        out += ["", *(f"> {note}" for note in grade.notes)]
    aside = set_aside_lines(grade)
    if aside:
        out += ["", "**Set aside — earned nothing**", *(f"- {_escape(line)}" for line in aside)]
    scope = f" {OFFLINE_SCOPE}" if grade.grader.name == "offline" else ""
    out += ["", f"_Graded by {_grader(grade)}.{scope}_"]
    return "\n".join(out)


def _fresh_quote(evidence: list[str], shown: set[str]) -> str:
    """The criterion's first quote not already in the table (rows would otherwise repeat the
    answer's strongest sentence); "as above" when it has nothing new."""
    if not evidence:
        return "—"
    fresh = next((q for q in evidence if q not in shown), None)
    if fresh is None:
        return "(same evidence as above)"
    shown.add(fresh)
    return f"“{_escape(fresh)}”"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
