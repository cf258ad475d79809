"""LLM providers: OpenAI, Anthropic and any OpenAI-compatible server, behind one small protocol.

Each provider wraps one client of the official SDK, built here once per configuration and then
reused (the engine keeps one per provider name). The SDKs are imported only when a provider is
made, so that a command that never calls an LLM never loads them.
"""

from __future__ import annotations

from bot.config import Settings
from bot.errors import ConfigError
from bot.providers.base import Completion, JsonSchema, Message, Provider, TokenUsage

__all__ = ["Completion", "JsonSchema", "Message", "Provider", "TokenUsage", "make_provider"]


def make_provider(settings: Settings, name: str) -> Provider:
    """A new provider, with its own SDK client; build it once and pass it around."""
    try:
        if name in ("openai", "openai_compatible"):
            from bot.providers.openai import compatible_provider, openai_provider

            return (openai_provider if name == "openai" else compatible_provider)(settings)
        if name == "anthropic":
            from bot.providers.anthropic import anthropic_provider

            return anthropic_provider(settings)
    except ImportError as error:  # pragma: no cover - the lock installs both SDKs
        raise ConfigError(
            f"the {name} grader needs its SDK ({error.name}): pip install -r requirements.lock"
        ) from error
    raise ConfigError(f"unknown provider '{name}'")
