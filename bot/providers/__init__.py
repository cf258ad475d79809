"""LLM providers: OpenAI, Anthropic and any OpenAI-compatible server, behind one small type.

Each provider builds a LangChain chat model on the official SDK. SDKs are imported inside the
factories, so that a missing package is an install hint rather than a crash at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.config import Settings
from bot.errors import ConfigError

StructuredMethod = Literal["json_schema", "json_mode", "function_calling"]


@dataclass(frozen=True)
class Provider:
    name: str
    model: str
    chat: Any  # a langchain BaseChatModel
    methods: tuple[StructuredMethod, ...]  # structured-output methods to try, in order


def make_provider(settings: Settings, name: str) -> Provider:
    if name == "openai":
        from bot.providers.openai import openai_provider

        return openai_provider(settings)
    if name == "openai_compatible":
        from bot.providers.openai import compatible_provider

        return compatible_provider(settings)
    if name == "anthropic":
        from bot.providers.anthropic import anthropic_provider

        return anthropic_provider(settings)
    raise ConfigError(f"unknown provider '{name}'")
