"""Choose up to two follow-ups that probe the key points an answer missed.

Follow-ups are ranked by the weight of the missed key points they probe. For a coding answer
with code in it, the first follow-up asks about the complexity of the candidate's own solution.
None is asked after an answer with nothing to build on (off topic, set aside, not in English).
"""

from __future__ import annotations

import re

from bot.content import Question
from bot.grading import coding
from bot.grading.grade import Grade
from bot.grading.language import ENGLISH
from bot.interview.state import FollowUpAsk

MAX_FOLLOW_UPS = 2
COMPLEXITY = re.compile(r"complexit|\bO\(|time and space|runtime|linear|quadratic|log n", re.I)


def choose_follow_ups(question: Question, grade: Grade, answer: str) -> list[FollowUpAsk]:
    own = _own_solution_follow_up(question, answer)
    if not can_build_on(grade):
        return [own] if own is not None else []  # code of their own is always worth asking on
    missed = {k.id: k.weight for k in grade.missed()}
    asks: list[FollowUpAsk] = []
    if own is not None:
        asks.append(own)
    ranked = sorted(
        (f for f in question.follow_ups if any(p in missed for p in f.probes)),
        key=lambda f: -sum(missed.get(p, 0.0) for p in f.probes),
    )
    for follow_up in ranked:
        if len(asks) >= MAX_FOLLOW_UPS:
            break
        if own is not None and set(follow_up.probes) <= set(own.probes):
            continue  # the complexity question already covers these
        asks.append(FollowUpAsk(prompt=follow_up.prompt, probes=list(follow_up.probes)))
    return asks


def can_build_on(grade: Grade) -> bool:
    """A follow-up helps an answer that engaged with the question: one in English that touched
    at least one key point. After an off-topic, empty or set-aside answer it would only drill
    into a question the candidate has not started on."""
    touched = any(k.status != "missed" for k in grade.key_points)
    return grade.language == ENGLISH and touched


def _own_solution_follow_up(question: Question, answer: str) -> FollowUpAsk | None:
    if question.coding is None:
        return None
    code = coding.extract(question, answer)
    if code is None:
        return None
    probes = [kp.id for kp in question.key_points if COMPLEXITY.search(kp.text)]
    lines = len(code.strip().splitlines())
    prompt = (
        f"Looking at the {lines}-line solution you submitted for `{question.coding.entry_point}`: "
        "what are its time and space complexity, which part of your code dominates, and could "
        "it do better?"
    )
    return FollowUpAsk(prompt=prompt, probes=probes or [question.key_points[0].id])
