"""Anthropic's Messages API; structured output through tool use."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.errors import ConfigError
from bot.providers import Provider


def anthropic_provider(settings: Settings) -> Provider:
    if settings.anthropic_api_key is None:
        raise ConfigError(
            "the anthropic grader needs ANTHROPIC_API_KEY (or choose --grader offline)"
        )
    try:
        from langchain_anthropic import ChatAnthropic
    except ImportError as error:  # pragma: no cover - the lock installs it
        raise ConfigError(
            "the Anthropic grader needs langchain-anthropic: pip install -r requirements.lock"
        ) from error
    options: dict[str, Any] = {
        "model": settings.anthropic_model,
        "api_key": settings.anthropic_api_key,
        "timeout": settings.llm_timeout_s,
        "max_retries": settings.llm_max_retries,
        "temperature": 0,
        "max_tokens": 2048,
    }
    if settings.anthropic_base_url:
        options["base_url"] = settings.anthropic_base_url
    chat = ChatAnthropic(**options)
    return Provider("anthropic", settings.anthropic_model, chat, ("function_calling",))
