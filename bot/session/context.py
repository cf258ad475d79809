"""What every session shares: settings, content, the store, a clock and the graders."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Settings
from bot.content import ContentBank, Question, Rubric
from bot.grading.evaluate import Grader
from bot.grading.grade import Grade
from bot.history import LOCAL_USER, AttemptStore, utcnow
from bot.session.spacing import ReviewSchedule

Clock = Callable[[], datetime]


@dataclass
class EngineContext:
    """What every session shares: settings, content, the store and a clock (injected in tests)."""

    settings: Settings
    bank: ContentBank
    store: AttemptStore
    clock: Clock = utcnow
    user_id: str = LOCAL_USER
    _graders: dict[str, Grader] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def grader(self, choice: str) -> Grader:
        """The grader for `choice`, built and warmed once, even when many sessions ask at once.

        The first grade loads the model and embeds the bank's topics (seconds); doing it under a
        lock means concurrent first submissions wait for one warm-up instead of each doing it.
        """
        with self._lock:
            if choice not in self._graders:
                from bot.grading.graders import make_grader

                grader = make_grader(self.settings, choice, self.bank)
                _warm_up(grader, self.bank)
                self._graders[choice] = OneAtATime(grader) if _is_offline(grader) else grader
            return self._graders[choice]

    @property
    def schedule(self) -> ReviewSchedule:
        return ReviewSchedule(self.store, self.user_id)

    def seen_before(self) -> set[str]:
        return {a.question_id for a in self.store.attempts(self.user_id)}


class OneAtATime:
    """Offline grading is CPU-bound (the embedding model already uses both cores): 20 grades at
    once thrash and each takes the time of all of them. Queued first come, first served (a plain
    lock lets a late thread overtake and starves others), each takes ~0.1 s in turn."""

    def __init__(self, grader: Grader) -> None:
        self.inner = grader
        self.name = grader.name
        self._turn = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def grade(self, question: Question, rubric: Rubric, answer: str) -> Grade:
        with self._turn:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._turn.wait_for(lambda: self._serving == ticket)
        try:
            return self.inner.grade(question, rubric, answer)
        finally:
            with self._turn:
                self._serving += 1
                self._turn.notify_all()


def _is_offline(grader: Grader) -> bool:
    from bot.grading.offline import OfflineGrader

    return isinstance(grader, OfflineGrader)


def _warm_up(grader: Grader, bank: ContentBank) -> None:
    """Load the model and embed the bank's topics now rather than in a candidate's first grade."""
    offline = grader if _is_offline(grader) else getattr(grader, "fallback", None)
    if offline is not None and _is_offline(offline) and bank.questions:
        question = bank.questions[min(bank.questions)]
        text = " ".join(kp.text for kp in question.key_points)  # on topic: builds topic vectors
        offline.grade(question, bank.rubric(question.rubric), text)
