"""One error tree for the whole package; turned into words only at the edges (CLI, app)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


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


class SessionMovedError(BotError):
    """The session was resumed in another tab (chat), which drives it from now on."""

    def __init__(self, session_id: str) -> None:
        super().__init__(
            "This session was resumed in another tab and continues there. Press **Start** "
            "for a new one here."
        )
        self.session_id = session_id


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


# Key shapes, whoever's key it is: OpenAI and Anthropic (sk-, sk-ant-, sk-proj-), Groq (gsk_),
# xAI (xai-), Hugging Face (hf_), GitHub (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_), GitLab
# (glpat-), Google (AIza), AWS access key ids (AKIA) and bearer tokens. Generated keys hold a
# digit: that keeps names like hf_hub_download, which an answer may mention, readable.
KEY_SHAPES = re.compile(
    r"\bsk-[A-Za-z0-9_-]{6,}"
    r"|\b(?:gsk_|xai-|hf_|gh[pousr]_|github_pat_|glpat-)(?=[A-Za-z_-]*[0-9])[A-Za-z0-9_-]{12,}"
    r"|\bAIza[0-9A-Za-z_-]{20,}|\bAKIA[0-9A-Z]{16}\b|\bBearer\s+\S+"
)
# `api_key=...`, `"password": "..."` and the like: the name stays, the value goes.
KEY_SETTINGS = re.compile(
    r"(?i)\b((?:x-)?api[_-]?key|access[_-]?token|(?:client[_-]?)?secret[_-]?key|client[_-]?secret"
    r"|password|passwd)([\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;]{4,}"
)
MASK = "****"
MIN_SECRET_CHARS = 4  # a configured value shorter than this is not searched for in text


def scrub(text: str, *, limit: int | None = 300, secrets: Iterable[str] = ()) -> str:
    """Text for users, logs and stored grades, clipped to `limit`, without secrets: the values
    of every configured secret (API keys, the database password), `secrets`, and anything
    shaped like a key."""
    clean = _scrubbed(text, _searched((*_configured_secrets(), *secrets)))
    return clean if limit is None else clean[:limit]


def public(data: Any, *, secrets: Iterable[str] = ()) -> Any:
    """`data` fit to leave the process (JSON output, exports): every string scrubbed, and every
    number JSON cannot hold (NaN, infinities) as None."""
    return _public(data, _searched((*_configured_secrets(), *secrets)))


def _public(data: Any, values: tuple[str, ...]) -> Any:
    if isinstance(data, str):
        return _scrubbed(data, values)
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {_public(k, values): _public(v, values) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_public(v, values) for v in data]
    return data


def _searched(values: Iterable[str]) -> tuple[str, ...]:
    """The secret values worth searching for, longest first (one may contain another)."""
    return tuple(sorted({v for v in values if len(v) >= MIN_SECRET_CHARS}, key=len, reverse=True))


def _scrubbed(text: str, values: tuple[str, ...]) -> str:
    for value in values:
        text = text.replace(value, MASK)
    return KEY_SETTINGS.sub(rf"\1\2{MASK}", KEY_SHAPES.sub(MASK, text))


_secret_source: list[Callable[[], tuple[str, ...]]] = []


def read_secrets_from(source: Callable[[], tuple[str, ...]]) -> None:
    """Where the configured secrets come from: bot.config hands its reader over when it loads
    (config imports this module, never the other way round)."""
    _secret_source[:] = [source]


def _configured_secrets() -> tuple[str, ...]:
    try:
        return _secret_source[0]() if _secret_source else ()
    except BotError:  # settings that do not load have no secret to hide yet
        return ()
