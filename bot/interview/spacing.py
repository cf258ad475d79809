"""Spaced repetition of missed questions and key points, scheduled by FSRS (the `fsrs` package).

Each item is a card: a question id, or `question#key-point` for a key point the candidate
missed. A question's card is reviewed every time it is answered (the score sets the rating); a
key point gets a card the first time it is missed and is reviewed whenever its question comes
back. Due items come first in a drill.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from fsrs import Card, Rating, Scheduler

from bot.grading.grade import EASY_MARK, HOLD_MARK, STRONG_MARK, Grade
from bot.store import LOCAL_USER, AttemptStore

SEP = "#"


def rating(score: float) -> Rating:
    """The roadmap's bands: >= 90 easy, 80-89 good, 60-79 hard, below 60 again."""
    if score >= EASY_MARK:
        return Rating.Easy
    if score >= STRONG_MARK:
        return Rating.Good
    if score >= HOLD_MARK:
        return Rating.Hard
    return Rating.Again


@dataclass(frozen=True)
class DueItem:
    item_id: str
    question_id: str
    key_point: str | None
    due: datetime


class ReviewSchedule:
    """Cards per user, kept in the attempt store; no fuzzing, so schedules are reproducible."""

    def __init__(self, store: AttemptStore, user_id: str = LOCAL_USER) -> None:
        self.store = store
        self.user_id = user_id
        self.scheduler = Scheduler(enable_fuzzing=False)

    def record(self, grade: Grade, when: datetime) -> None:
        """Review the question's card and the cards of its missed (or once missed) key points."""
        cards = self._cards()
        qid = grade.question_id
        self._review(qid, cards.get(qid), rating(grade.score), when)
        for kp in grade.key_points:
            item = f"{qid}{SEP}{kp.id}"
            if kp.status == "covered" and item not in cards:
                continue
            good = Rating.Good if kp.status == "covered" else Rating.Again
            self._review(item, cards.get(item), good, when)

    def due(self, now: datetime, *, within: Iterable[str] | None = None) -> list[DueItem]:
        """Items due at `now`, soonest first; `within` limits them to these question ids."""
        allowed = set(within) if within is not None else None
        found = []
        for item_id, card in self._cards().items():
            qid, _, kp = item_id.partition(SEP)
            if card.due <= now and (allowed is None or qid in allowed):
                found.append(DueItem(item_id, qid, kp or None, card.due))
        return sorted(found, key=lambda d: (d.due, d.item_id))

    def _cards(self) -> dict[str, Card]:
        return {k: Card.from_json(v) for k, v in self.store.review_cards(self.user_id).items()}

    def _review(self, item_id: str, card: Card | None, grade: Rating, when: datetime) -> None:
        updated, _ = self.scheduler.review_card(card or Card(), grade, review_datetime=when)
        self.store.save_review_card(item_id, updated.to_json(), updated.due, self.user_id)
