"""OpenAI, and any server that speaks its chat-completions API (Ollama, vLLM, llama.cpp, ...)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

import openai
from openai.types.chat import ChatCompletionMessageParam
from openai.types.chat.completion_create_params import ResponseFormat
from pydantic import SecretStr

from bot.config import Settings
from bot.errors import ConfigError, ProviderError
from bot.providers.base import Completion, JsonSchema, Message, reported_or_counted

Format = Literal["json_schema", "json_object"]
REFUSAL_WORDS = ("response_format", "json_schema", "not supported", "unsupported")


class OpenAIProvider:
    """Chat completions on one `openai.OpenAI` client. `formats` are the structured-output
    formats to try in order: a server that refuses one is asked in the next."""

    def __init__(
        self, name: str, model: str, client: openai.OpenAI, formats: tuple[Format, ...]
    ) -> None:
        self.name = name
        self.model = model
        self.client = client
        self.formats = formats

    def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: JsonSchema | None = None,
        timeout_s: float | None = None,
    ) -> Completion:
        client = self.client
        if timeout_s is not None:  # a copy that shares the connection pool
            client = client.with_options(timeout=timeout_s, max_retries=0)
        if json_schema is None:
            return self._create(client, messages, openai.omit)
        for i, format_ in enumerate(self.formats):
            sent, response_format = _asking(format_, messages, json_schema)
            try:
                return self._create(client, sent, response_format)
            except ProviderError as error:
                refused = isinstance(error.__cause__, openai.BadRequestError) and any(
                    word in str(error.__cause__).lower() for word in REFUSAL_WORDS
                )
                if not refused or i == len(self.formats) - 1:
                    raise
                self.formats = self.formats[i + 1 :]  # the client is reused: ask once only
        raise ConfigError(f"{self.name}: no structured-output format configured")

    def _create(
        self,
        client: openai.OpenAI,
        messages: Sequence[Message],
        response_format: ResponseFormat | openai.Omit,
    ) -> Completion:
        try:
            response = client.chat.completions.create(
                model=self.model,
                messages=[_wire(m) for m in messages],
                response_format=response_format,
                temperature=0,
            )
        except openai.OpenAIError as error:
            raise ProviderError(self.name, f"{type(error).__name__}: {error}") from error
        except ValueError as error:  # a body that is not JSON (the SDK lets it through)
            raise ProviderError(self.name, f"malformed reply: {error}") from error
        usage = response.usage
        return Completion(
            text=(response.choices[0].message.content or "") if response.choices else "",
            usage=reported_or_counted(
                messages,
                self.model,
                usage.prompt_tokens if usage else None,
                usage.completion_tokens if usage else None,
            ),
            model=response.model or self.model,
        )


def _asking(
    format_: Format, messages: Sequence[Message], schema: JsonSchema
) -> tuple[list[Message], ResponseFormat]:
    """The messages and response_format that ask for `schema` in `format_`."""
    if format_ == "json_schema":
        return list(messages), {
            "type": "json_schema",
            "json_schema": {
                "name": schema.name,
                "description": schema.description,
                "schema": schema.schema,
            },
        }
    # JSON mode only promises JSON: the shape has to be described in words
    shape = Message(
        "system",
        f"Reply with one JSON object that follows this JSON schema: {json.dumps(schema.schema)}",
    )
    return [*messages, shape], {"type": "json_object"}


def _wire(message: Message) -> ChatCompletionMessageParam:
    if message.role == "system":
        return {"role": "system", "content": message.content}
    if message.role == "assistant":
        return {"role": "assistant", "content": message.content}
    return {"role": "user", "content": message.content}


def _client(settings: Settings, *, api_key: SecretStr, base_url: str | None) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=api_key.get_secret_value(),
        base_url=base_url,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
    )


def openai_provider(settings: Settings) -> OpenAIProvider:
    if settings.openai_api_key is None:
        raise ConfigError("the openai grader needs OPENAI_API_KEY (or choose --grader offline)")
    client = _client(settings, api_key=settings.openai_api_key, base_url=settings.openai_base_url)
    return OpenAIProvider("openai", settings.openai_model, client, ("json_schema",))


def compatible_provider(settings: Settings) -> OpenAIProvider:
    """A local or self-hosted server by base URL; many refuse json_schema, so JSON mode follows."""
    if not settings.openai_base_url:
        raise ConfigError(
            "the openai_compatible grader needs OPENAI_BASE_URL, e.g. "
            "http://localhost:11434/v1 for Ollama"
        )
    key = settings.openai_api_key or SecretStr("not-needed")  # local servers ignore the key
    client = _client(settings, api_key=key, base_url=settings.openai_base_url)
    return OpenAIProvider(
        "openai_compatible", settings.openai_model, client, ("json_schema", "json_object")
    )
