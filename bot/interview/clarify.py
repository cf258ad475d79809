"""Answer a candidate's clarifying question from the question's clarification facts.

Offline, the closest fact wins (sentence embeddings of its `ask` and `answer`; see WEIGHTS).
With an LLM configured, the model words the matched fact (bot.interview.voice); any failure
falls back to the fact as written. Nothing outside the facts is ever invented: an unknown detail
gets "make an assumption and state it", as a real interviewer would say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.content import Question, Rubric
from bot.grading.evidence import embed_fixed
from bot.grading.grade import CriterionScore, Grade
from bot.interview import voice
from bot.interview.context import EngineContext

# How a clarifying question is matched to a fact: cosine similarity of the question with the
# fact's own `ask`, with the answer sentence closest to it, and with the whole answer, weighted
# as below; under MIN_SIMILARITY no fact covers it. Chosen on half of bench/data/clarifying.yaml
# (by question) and checked on the other half: 92.7% right on all 82 rows, 89% cross-validated
# (python bench/clarify.py); word-stem overlap, used before, got 68.3%.
WEIGHTS = {"ask": 0.5, "sentence": 1.0, "answer": 0.5}
MIN_SIMILARITY = 0.25
SENTENCE_END = re.compile(r"(?<=[.;])\s+")
QUESTION_START = re.compile(
    r"^\s*(what|how|do|does|did|is|are|can|could|should|will|would|which|who|where|when|"
    r"may|any|clarif)",
    re.IGNORECASE,
)
NO_FACT = (
    "That isn't specified for this exercise: make a reasonable assumption, say it out loud, "
    "and move on."
)


@dataclass(frozen=True)
class Clarification:
    reply: str
    source: str  # "offline" or the LLM provider's name
    fact: int | None = None  # the fact that answers it (matched offline, whoever phrases it)
    note: str = ""  # why the offline wording stands when an LLM was asked


def is_clarifying(question: Question, message: str) -> bool:
    """A short question in a system-design round, rather than part of the answer."""
    if not question.clarifications:
        return False
    text = message.strip()
    short = len(text) <= 300 and text.count("\n") <= 2
    return short and (text.endswith("?") or bool(QUESTION_START.match(text)) and "?" in text)


def best_fact(question: Question, message: str) -> int | None:
    """The index of the fact that answers `message`, or None when none is close enough."""
    if not question.clarifications:
        return None
    asked = embed_fixed((message,))[0]
    best, best_score = None, MIN_SIMILARITY
    for i, fact in enumerate(question.clarifications):
        sentences = tuple(p for p in SENTENCE_END.split(fact.answer) if p.strip())
        similarity = embed_fixed((fact.ask, fact.answer, *sentences)) @ asked
        score = (
            WEIGHTS["ask"] * similarity[0]
            + WEIGHTS["sentence"] * similarity[2:].max()
            + WEIGHTS["answer"] * similarity[1]
        ) / sum(WEIGHTS.values())
        if score >= best_score:
            best, best_score = i, float(score)
    return best


def clarify_offline(question: Question, message: str) -> Clarification:
    index = best_fact(question, message)
    reply = NO_FACT if index is None else question.clarifications[index].answer
    return Clarification(reply, "offline", index)


CREDITED = "requirements"  # the design rubrics' criterion that clarifying questions earn


def credit_clarifying(grade: Grade, rubric: Rubric, question: Question, facts: list[int]) -> Grade:
    """Asking is half of a real design round: each distinct fact the candidate asked about
    lifts the requirements criterion (one fact: adequate, two: strong, three or more:
    excellent) when the answer alone scored it lower; the grade says so."""
    criterion = next((c for c in rubric.criteria if c.id == CREDITED), None)
    hit = sorted(set(facts))
    if criterion is None or not hit or question.kind != "system_design":
        return grade
    topics = ", ".join(dict.fromkeys(question.clarifications[i].topic for i in hit))
    level = criterion.nearest_level(min(4, 1 + len(hit)))
    lifted = CriterionScore.at(
        criterion,
        level,
        score=100 * level.score / 4,
        evidence=[question.clarifications[i].ask for i in hit],
        feedback=f"You asked about {len(hit)} fact(s) before designing ({topics}).",
    )
    scores = {c.id: c for c in grade.criteria}
    before = scores[criterion.id]
    if lifted.score <= before.score:
        return grade
    total = sum(c.weight for c in grade.criteria)
    gain = (lifted.score - before.score) * before.weight / total
    score = min(100.0, round(grade.score + gain, 1))
    note = f"Clarifying questions ({topics}) credited under {criterion.name}: +{gain:.1f}."
    return grade.model_copy(
        update={
            "criteria": [lifted if c.id == criterion.id else c for c in grade.criteria],
            "score": score,
            "passed": score >= rubric.pass_mark,
            "notes": [*grade.notes, note],
        }
    )


def clarify_for(ctx: EngineContext, choice: str, question: Question, text: str) -> Clarification:
    """The matched fact, worded by the LLM when the session's grader `choice` is one (see
    bot.interview.voice), else as written."""
    offline = clarify_offline(question, text)
    request = voice.clarification_request(ctx.bank, question, asked=text, fact=offline.reply)
    said = voice.spoken(ctx, choice, request)
    return Clarification(said.text, said.source, offline.fact, said.note)
