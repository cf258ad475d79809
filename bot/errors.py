"""One error tree for the whole package; turned into words only at the edges (CLI, app)."""

from __future__ import annotations

import re
from dataclasses import dataclass


class BotError(Exception):
    """Base of every error interview-bot raises on purpose."""

    exit_code = 1


@dataclass(frozen=True)
class ContentIssue:
    """One problem in one content file, located to a line and a field."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


class ContentError(BotError):
    """Content files failed validation; carries every issue found, not only the first."""

    def __init__(self, issues: list[ContentIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.path, i.line, i.field))
        noun = "error" if len(self.issues) == 1 else "errors"
        lines = "\n".join(str(i) for i in self.issues)
        super().__init__(f"{len(self.issues)} content {noun}:\n{lines}")


class NotFoundError(BotError):
    """A name (question id, rubric id, ...) that does not exist; suggests close matches."""

    def __init__(self, what: str, name: str, suggestions: list[str]) -> None:
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        super().__init__(f"unknown {what} '{name}'{hint}")
        self.name = name
        self.suggestions = suggestions


class ConfigError(BotError):
    """Settings that cannot work (bad URL, missing key for the chosen provider, ...)."""


class StoreError(BotError):
    """The attempt store cannot be opened; the message names the URL with its password masked."""


class KnowledgeBaseError(BotError):
    """The knowledge-base index cannot be built, opened or queried."""


class ModelMissingError(BotError):
    """A packaged model file is not installed; the message says which package to install."""


class ProviderError(BotError):
    """An LLM provider failed, or its replies stayed unusable; carries what was spent and returned.

    `outputs` are the raw replies received (none when the transport failed), `attempts` the
    calls made (the SDK's own transport retries inside one call not counted), and the tokens
    those calls reported. The message and the outputs never carry secrets.
    """

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        outputs: tuple[str, ...] = (),
        attempts: int = 1,
        input_tokens: int = 0,
        output_tokens: int = 0,
    ) -> None:
        self.detail = scrub(message)
        super().__init__(f"{provider}: {self.detail}")
        self.provider = provider
        self.outputs = tuple(scrub(o, limit=None) for o in outputs)
        self.attempts = attempts
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens


SECRET = re.compile(r"(sk-[A-Za-z0-9_-]{6,}|sk-ant-[A-Za-z0-9_-]{6,}|Bearer\s+\S+)")


def scrub(text: str, *, limit: int | None = 300) -> str:
    """Text for users, logs and stored grades, with anything key-shaped removed, clipped."""
    clean = SECRET.sub("****", text)
    return clean if limit is None else clean[:limit]
