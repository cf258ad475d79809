"""The one question filter: by kind, competency, tag, and the ids to leave out."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from bot.content.models import Question

# Classic distributed-systems designs (news feed, key-value store...) sit in C6 for their
# engineering, but a GenAI drill or round chosen by competency does not ask them: they come when
# asked for by this tag, or in a round open to every competency.
CLASSIC = "distributed-systems"


def select_questions(
    questions: Mapping[str, Question],
    *,
    kind: str | None = None,
    competency: str | None = None,
    competencies: Collection[str] = (),
    tag: str | None = None,
    exclude: Collection[str] = (),
) -> list[Question]:
    """The questions that match every filter given, in the bank's order.

    `competency` is one id (any case, as typed by a user); `competencies` is a set to draw from,
    empty meaning any; `exclude` holds question ids already used.
    """
    wanted = competency.upper() if competency is not None else None
    return [
        q
        for q in questions.values()
        if (kind is None or q.kind == kind)
        and (wanted is None or q.competency == wanted)
        and (not competencies or q.competency in competencies)
        and (tag is None or tag in q.tags)
        and q.id not in exclude
    ]



def practice_pool(questions: Mapping[str, Question], **filters: Any) -> list[Question]:
    """What a drill or a mock round draws from: `select_questions` with the same filters, except
    that chosen by competency (and not by the CLASSIC tag) it leaves the classic designs out."""
    chosen = select_questions(questions, **filters)
    by_competency = filters.get("competency") is not None or bool(filters.get("competencies"))
    if not by_competency or filters.get("tag") == CLASSIC:
        return chosen
    return [q for q in chosen if CLASSIC not in q.tags]
