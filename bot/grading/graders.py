"""Choose a grader from the settings; an LLM grader falls back to the offline one.

To grade an answer, use bot/grading/coding.py's `grade_answer` (it runs a coding answer's tests).
"""

from __future__ import annotations

from bot.config import GRADER_CHOICES, Settings
from bot.content import ContentBank
from bot.errors import ConfigError
from bot.grading.grade import Grader
from bot.grading.offline import OfflineGrader
from bot.providers import Provider


def resolve_choice(settings: Settings, choice: str) -> str:
    """'auto' picks an LLM when one is configured, otherwise the offline grader."""
    if choice not in GRADER_CHOICES:
        raise ConfigError(f"unknown grader '{choice}' (choose from {', '.join(GRADER_CHOICES)})")
    if choice == "auto":
        choice = settings.grader
    if choice != "auto":
        return choice
    if settings.openai_base_url:
        return "openai_compatible"
    if settings.openai_api_key:
        return "openai"
    if settings.anthropic_api_key:
        return "anthropic"
    return "offline"


def make_grader(
    settings: Settings,
    choice: str = "auto",
    bank: ContentBank | None = None,
    *,
    provider: Provider | None = None,
) -> Grader:
    """The grader for `choice`; an LLM grader uses `provider` when given (its client reused)."""
    resolved = resolve_choice(settings, choice)
    if resolved == "offline":
        return OfflineGrader(bank)
    from bot.grading.llm import LLMGrader
    from bot.grading.passages import ReferencePassages
    from bot.providers import make_provider

    return LLMGrader(
        provider or make_provider(settings, resolved),
        settings=settings,
        fallback=OfflineGrader(bank),
        references=ReferencePassages(settings, bank) if bank else None,
    )
