"""What every session shares: settings, content, the store, a clock and the graders."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.config import Settings
from bot.content import ContentBank, Question, Rubric
from bot.grading.grade import Grade, Grader
from bot.grading.offline import OfflineGrader
from bot.interview.spacing import ReviewSchedule
from bot.providers import Provider
from bot.store import LOCAL_USER, AttemptStore, utcnow

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
    _providers: dict[str, Provider] = field(default_factory=dict)
    _provider_lock: threading.Lock = field(default_factory=threading.Lock)

    def for_user(self, user_id: str) -> EngineContext:
        """This context as `user_id`: the same settings, content, store, graders and providers
        (their caches and locks are shared, not copied)."""
        return self if user_id == self.user_id else replace(self, user_id=user_id)

    def provider(self, name: str) -> Provider:
        """The LLM provider `name` (openai, anthropic, openai_compatible), its SDK client built
        once and shared by every grade and clarifying question of every session."""
        with self._provider_lock:
            if name not in self._providers:
                from bot.providers import make_provider

                self._providers[name] = make_provider(self.settings, name)
            return self._providers[name]

    def grader(self, choice: str) -> Grader:
        """The grader for `choice`, built and warmed once, even when many sessions ask at once.

        The first grade loads the model and embeds the bank's topics (seconds); doing it under a
        lock means concurrent first submissions wait for one warm-up instead of each doing it.
        """
        with self._lock:
            if choice not in self._graders:
                from bot.grading.graders import make_grader, resolve_choice

                resolved = resolve_choice(self.settings, choice)
                provider = None if resolved == "offline" else self.provider(resolved)
                grader = make_grader(self.settings, resolved, self.bank, provider=provider)
                offline = _offline_part(grader)
                if offline is not None:
                    offline.warm_up()  # the model and topic vectors, before any candidate waits
                queued = isinstance(grader, OfflineGrader)
                self._graders[choice] = OneAtATime(grader) if queued else grader
            return self._graders[choice]

    @property
    def schedule(self) -> ReviewSchedule:
        return ReviewSchedule(self.store, self.user_id)

    def seen_before(self) -> set[str]:
        return self.store.question_ids(self.user_id)


class OneAtATime:
    """Offline grading is CPU-bound (the embedding model already uses both cores): 20 grades at
    once thrash and each takes the time of all of them. Queued, each takes ~0.05 s in turn."""

    def __init__(self, grader: Grader) -> None:
        self.inner = grader
        self.name = grader.name
        self._lock = threading.Lock()

    def grade(self, question: Question, rubric: Rubric, answer: str) -> Grade:
        with self._lock:
            return self.inner.grade(question, rubric, answer)


def _offline_part(grader: Grader) -> OfflineGrader | None:
    """The offline grader itself, or the one an LLM grader falls back to."""
    found = grader if isinstance(grader, OfflineGrader) else getattr(grader, "fallback", None)
    return found if isinstance(found, OfflineGrader) else None
