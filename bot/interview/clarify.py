"""Answer a candidate's clarifying question from the question's clarification facts.

Offline, the best-matching fact wins (shared word stems with its `ask`, `answer` and topic).
With an LLM configured, the model phrases the reply from the facts only, and any failure falls
back to the offline match. Nothing outside the facts is ever invented: an unknown detail gets
"make an assumption and state it", as a real interviewer would say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.content import Question
from bot.errors import ProviderError
from bot.interview.context import EngineContext
from bot.providers import Message, Provider
from bot.text import content_stems

TOPIC_WORDS = {
    "scale": "scale traffic users volume requests qps throughput size how many how much load",
    "constraint": "constraint limit latency budget cost slo deadline must",
    "non_goal": "scope non-goal out of scope need not ignore skip",
    "requirement": "requirement feature must support need should",
    "environment": "environment stack cloud infrastructure existing team deploy",
}
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


def is_clarifying(question: Question, message: str) -> bool:
    """A short question in a system-design round, rather than part of the answer."""
    if not question.clarifications:
        return False
    text = message.strip()
    short = len(text) <= 300 and text.count("\n") <= 2
    return short and (text.endswith("?") or bool(QUESTION_START.match(text)) and "?" in text)


def best_fact(question: Question, message: str) -> int | None:
    asked = set(content_stems(message))
    best, best_score = None, 0.0
    for i, fact in enumerate(question.clarifications):
        ask = set(content_stems(fact.ask))
        body = set(content_stems(fact.answer + " " + TOPIC_WORDS[fact.topic]))
        score = 2.0 * len(asked & ask) + len(asked & body)
        if score > best_score:
            best, best_score = i, score
    return best


def clarify_offline(question: Question, message: str) -> Clarification:
    index = best_fact(question, message)
    reply = NO_FACT if index is None else question.clarifications[index].answer
    return Clarification(reply, "offline")


def clarify_with_llm(provider: Provider, question: Question, message: str) -> Clarification:
    """Ask the LLM to answer from the facts only; fall back offline when it fails."""
    offline = clarify_offline(question, message)
    facts = "\n".join(f"- ({f.topic}) {f.answer}" for f in question.clarifications)
    system = (
        "You are the interviewer in a system design interview. Answer the candidate's "
        "clarifying question in one or two sentences using ONLY these facts. If the facts do "
        f"not cover it, say it is unspecified and ask them to assume.\nFacts:\n{facts}"
    )
    try:
        reply = provider.complete([Message("system", system), Message("user", message[:1000])])
    except ProviderError:  # the LLM is optional here: a failure keeps the offline answer
        return offline
    text = reply.text.strip()
    return Clarification(text, provider.name) if text else offline


def clarify_for(ctx: EngineContext, choice: str, question: Question, text: str) -> Clarification:
    """Answer offline or with the LLM, as the session's grader `choice` resolves."""
    from bot.grading.graders import resolve_choice

    resolved = resolve_choice(ctx.settings, choice)
    if resolved == "offline":
        return clarify_offline(question, text)
    return clarify_with_llm(ctx.provider(resolved), question, text)
