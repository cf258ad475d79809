"""Anthropic's Messages API; structured output through a tool the model must call."""

from __future__ import annotations

import json
from collections.abc import Sequence

import anthropic
from anthropic.types import MessageParam, ToolParam

from bot.config import Settings
from bot.errors import ConfigError, ProviderError
from bot.providers.base import Completion, JsonSchema, Message, reported_or_counted

MAX_OUTPUT_TOKENS = 2048


class AnthropicProvider:
    """Messages on one `anthropic.Anthropic` client; system messages go in `system`."""

    def __init__(self, model: str, client: anthropic.Anthropic) -> None:
        self.name = "anthropic"
        self.model = model
        self.client = client

    def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: JsonSchema | None = None,
        timeout_s: float | None = None,
    ) -> Completion:
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        turns = [_wire(m) for m in messages if m.role != "system"]
        client = self.client
        if timeout_s is not None:  # a copy that shares the connection pool
            client = client.with_options(timeout=timeout_s, max_retries=0)
        try:
            if json_schema is None:
                response = client.messages.create(
                    model=self.model, max_tokens=MAX_OUTPUT_TOKENS, system=system, messages=turns
                )
            else:
                response = client.messages.create(
                    model=self.model,
                    max_tokens=MAX_OUTPUT_TOKENS,
                    system=system,
                    messages=turns,
                    tools=[_tool(json_schema)],
                    tool_choice={"type": "tool", "name": json_schema.name},
                )
        except anthropic.AnthropicError as error:
            raise ProviderError(self.name, f"{type(error).__name__}: {error}") from error
        except ValueError as error:  # a body that is not JSON (the SDK lets it through)
            raise ProviderError(self.name, f"malformed reply: {error}") from error
        if not isinstance(response.content, list) or response.usage is None:
            raise ProviderError(self.name, "malformed reply: no content or usage")
        return Completion(
            text=_text(response),
            usage=reported_or_counted(
                messages, self.model, response.usage.input_tokens, response.usage.output_tokens
            ),
            model=response.model or self.model,
        )


def _text(response: anthropic.types.Message) -> str:
    """The forced tool call's arguments as JSON, else the reply's text."""
    for block in response.content:
        if block.type == "tool_use":
            return json.dumps(block.input)
    return "".join(block.text for block in response.content if block.type == "text")


def _tool(schema: JsonSchema) -> ToolParam:
    return {"name": schema.name, "description": schema.description, "input_schema": schema.schema}


def _wire(message: Message) -> MessageParam:
    if message.role == "assistant":
        return {"role": "assistant", "content": message.content}
    return {"role": "user", "content": message.content}


def anthropic_provider(settings: Settings) -> AnthropicProvider:
    if settings.anthropic_api_key is None:
        raise ConfigError(
            "the anthropic grader needs ANTHROPIC_API_KEY (or choose --grader offline)"
        )
    client = anthropic.Anthropic(
        api_key=settings.anthropic_api_key.get_secret_value(),
        base_url=settings.anthropic_base_url or None,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
    )
    return AnthropicProvider(settings.anthropic_model, client)
