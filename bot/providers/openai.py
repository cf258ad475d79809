"""OpenAI, and any server that speaks its chat-completions API (Ollama, vLLM, llama.cpp, ...)."""

from __future__ import annotations

from pydantic import SecretStr

from bot.config import Settings
from bot.errors import ConfigError
from bot.providers import Provider


def _chat(settings: Settings, *, api_key: SecretStr, base_url: str | None) -> object:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as error:  # pragma: no cover - the lock installs it
        raise ConfigError(
            "the OpenAI grader needs langchain-openai: pip install -r requirements.lock"
        ) from error
    return ChatOpenAI(
        model=settings.openai_model,
        api_key=api_key,
        base_url=base_url,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        temperature=0,
    )


def openai_provider(settings: Settings) -> Provider:
    if settings.openai_api_key is None:
        raise ConfigError("the openai grader needs OPENAI_API_KEY (or choose --grader offline)")
    chat = _chat(settings, api_key=settings.openai_api_key, base_url=settings.openai_base_url)
    return Provider("openai", settings.openai_model, chat, ("json_schema",))


def compatible_provider(settings: Settings) -> Provider:
    """A local or self-hosted server by base URL; many refuse json_schema, so json_mode follows."""
    if not settings.openai_base_url:
        raise ConfigError(
            "the openai_compatible grader needs OPENAI_BASE_URL, e.g. "
            "http://localhost:11434/v1 for Ollama"
        )
    key = settings.openai_api_key or SecretStr("not-needed")  # local servers ignore the key
    chat = _chat(settings, api_key=key, base_url=settings.openai_base_url)
    return Provider("openai_compatible", settings.openai_model, chat, ("json_schema", "json_mode"))
