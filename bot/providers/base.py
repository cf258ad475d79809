"""What the grader and the interviewer ask of an LLM: messages in, text and the tokens spent out.

A provider owns one SDK client, built once and reused for every call; every transport failure
(after the SDK's own retries) leaves it as a ProviderError.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from bot.tokens import count_tokens

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )


@dataclass(frozen=True)
class Completion:
    """One reply: its text (the JSON itself when a schema was asked for), tokens, and model."""

    text: str
    usage: TokenUsage
    model: str


@dataclass(frozen=True)
class JsonSchema:
    """The shape a reply must take: a name, what it is, and the JSON schema itself."""

    name: str
    description: str
    schema: dict[str, Any]

    @classmethod
    def of(cls, model: type[BaseModel]) -> JsonSchema:
        about = (model.__doc__ or model.__name__).strip()
        return cls(model.__name__, about, model.model_json_schema())


class Provider(Protocol):
    """An LLM behind one call. `name` is the grader name (openai, anthropic, openai_compatible)."""

    @property
    def name(self) -> str: ...

    @property
    def model(self) -> str: ...

    def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: JsonSchema | None = None,
        timeout_s: float | None = None,
    ) -> Completion:
        """The model's reply; raises ProviderError when the call fails. With `timeout_s`, one
        try that gives up after that many seconds (no SDK retries): for a reply someone waits on
        that has an offline stand-in."""
        ...


def reported_or_counted(
    messages: Sequence[Message], model: str, input_tokens: int | None, output_tokens: int | None
) -> TokenUsage:
    """The usage the server reported; where it reported no input tokens (many local servers),
    the prompt is counted here, so that a cost estimate never reads zero tokens sent."""
    sent = input_tokens or count_tokens("\n".join(m.content for m in messages), model)
    return TokenUsage(sent, output_tokens or 0)
