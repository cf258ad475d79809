"""One Settings object, read from the environment and `.env`."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError, read_secrets_from

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The one list of grader names: "auto" picks one of the others from the settings.
GraderChoice = Literal["auto", "offline", "openai", "anthropic", "openai_compatible"]
GRADER_CHOICES: tuple[GraderChoice, ...] = get_args(GraderChoice)
GRADERS_NAMED = ", ".join(GRADER_CHOICES[:-1]) + " or " + GRADER_CHOICES[-1]
RUNNER_UID_POOL = 64  # uids the code runner may use, from Settings.runner_uid up
SERVE_HOST, SERVE_PORT = "127.0.0.1", 8000  # where `interview-bot serve` listens by default


def _home(base: str | None, fallback: str) -> Path:
    """`interview-bot` under an XDG base folder, or under its fallback in the home folder."""
    return Path(base or Path.home() / fallback) / "interview-bot"


def _env(*names: str) -> Any:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Effective configuration. Every field can be set by the environment variable it names."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Read first: the data dir and the model cache default to folders under them.
    xdg_data_home: str | None = Field(default=None, validation_alias=_env("XDG_DATA_HOME"))
    xdg_cache_home: str | None = Field(default=None, validation_alias=_env("XDG_CACHE_HOME"))
    data_dir: Path = Field(
        default_factory=lambda given: _home(given["xdg_data_home"], ".local/share"),
        validation_alias=_env("INTERVIEW_BOT_DATA_DIR"),
    )
    model_cache: Path = Field(
        default_factory=lambda given: _home(given["xdg_cache_home"], ".cache"),
        validation_alias=_env("INTERVIEW_BOT_MODEL_CACHE"),
        description="Where the embedding model converted to dynamic int8 is kept.",
    )
    content_dir: Path = Field(
        default=PROJECT_ROOT, validation_alias=_env("INTERVIEW_BOT_CONTENT_DIR")
    )
    grader: GraderChoice = Field(default="auto", validation_alias=_env("INTERVIEW_BOT_GRADER"))
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=_env("OPENAI_API_KEY"))
    openai_model: str = Field(default="gpt-4o-mini", validation_alias=_env("OPENAI_MODEL"))
    openai_base_url: str | None = Field(default=None, validation_alias=_env("OPENAI_BASE_URL"))
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("ANTHROPIC_API_KEY")
    )
    anthropic_model: str = Field(
        default="claude-haiku-4-5", validation_alias=_env("ANTHROPIC_MODEL")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=_env("ANTHROPIC_BASE_URL")
    )
    llm_timeout_s: float = Field(
        default=30.0, gt=0, validation_alias=_env("INTERVIEW_BOT_LLM_TIMEOUT")
    )
    llm_max_retries: int = Field(
        default=2, ge=0, validation_alias=_env("INTERVIEW_BOT_LLM_RETRIES")
    )
    # times a reply that breaks the grade's schema is sent back for correction
    llm_format_retries: int = Field(
        default=1, ge=0, validation_alias=_env("INTERVIEW_BOT_LLM_FORMAT_RETRIES")
    )
    database_url: str | None = Field(
        default=None, validation_alias=_env("INTERVIEW_BOT_DATABASE_URL", "DATABASE_URL")
    )
    chroma_host: str | None = Field(default=None, validation_alias=_env("CHROMA_HOST"))
    chroma_port: int = Field(default=8000, validation_alias=_env("CHROMA_PORT"))
    public_origin: str | None = Field(
        default=None,
        validation_alias=_env("INTERVIEW_BOT_PUBLIC_ORIGIN"),
        description="The origin browsers reach the app at when it is not loopback on the "
        "served port (a proxy or a public name), e.g. https://interview.example.com.",
    )
    auth_header: str | None = Field(
        default=None,
        validation_alias=_env("INTERVIEW_BOT_AUTH_HEADER"),
        description="Header login: the request header naming the signed-in user, set by an "
        "authenticating reverse proxy (e.g. X-Forwarded-User). Unset: header login is off.",
    )
    password_login: bool = Field(
        default=False,
        validation_alias=_env("INTERVIEW_BOT_PASSWORD_LOGIN"),
        description="Password login for the users added with `interview-bot users add`.",
    )
    submit_per_minute: int = Field(
        default=20,
        ge=1,
        validation_alias=_env("INTERVIEW_BOT_SUBMIT_PER_MINUTE"),
        description="Submissions one user may make in any minute, over all their tabs.",
    )
    runner_concurrency: int = Field(
        default=2, ge=1, validation_alias=_env("INTERVIEW_BOT_RUNNER_CONCURRENCY")
    )
    runner_uid: int = Field(
        default=64200,
        ge=1000,
        lt=2**31 - RUNNER_UID_POOL,
        validation_alias=_env("INTERVIEW_BOT_RUNNER_UID"),
        description="First uid of the runner's pool (as root); uids with an account are skipped.",
    )

    @field_validator("public_origin")
    @classmethod
    def _an_origin(cls, value: str | None) -> str | None:
        """scheme://host[:port] and nothing more, the way a browser writes its Origin header."""
        if not value:
            return None
        parts = urlsplit(value.strip().lower())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
            raise ValueError("an origin is http(s)://host[:port], with no path")
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("auth_header")
    @classmethod
    def _a_header(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        if not re.fullmatch(r"[A-Za-z0-9-]+", value.strip()):
            raise ValueError("a header name is letters, digits and dashes")
        return value.strip()

    @property
    def login_configured(self) -> bool:
        """Whether the app signs users in by itself (OAuth is Chainlit's, seen by bot.web.auth)."""
        return self.password_login or self.auth_header is not None

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'history.sqlite3'}"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    def secret_values(self) -> tuple[str, ...]:
        """Every configured secret: API keys and the database password (as written, decoded)."""
        values = [
            value.get_secret_value()
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), SecretStr)
        ]
        password = url_password(self.database_url) if self.database_url else None
        if password:
            values += [password, unquote(password)]
        return tuple(v for v in values if v)

    def shown(self) -> dict[str, str]:
        """Effective values for display, secrets masked."""
        values: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            values[name] = _mask(value) if isinstance(value, SecretStr) else _plain(value)
        values["effective_database_url"] = mask_url(self.effective_database_url)
        values["database_url"] = mask_url(self.database_url) if self.database_url else "(unset)"
        return values


def _plain(value: object) -> str:
    return "(unset)" if value is None else str(value)


def _mask(secret: SecretStr) -> str:
    return "(set) ****" if secret.get_secret_value() else "(empty)"


PRIVATE_DIR_MODE = 0o700  # the data dir holds answers, grades and the search index
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """`path` as a directory, it and every missing parent created readable by the owner only.

    A directory that exists already is left as it is: it may be a shared one (/tmp, ...).
    """
    path = path.expanduser()
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # made by another process meanwhile
            continue
        folder.chmod(PRIVATE_DIR_MODE)  # mkdir's mode passes through the umask
    return path


def url_password(url: str) -> str | None:
    """The password inside a database URL (scheme://user:password@host/db), if it has one."""
    _scheme, sep, rest = url.partition("://")
    creds, at, _host = rest.rpartition("@")
    if not sep or not at or ":" not in creds:
        return None
    return creds.split(":", 1)[1]


def mask_url(url: str) -> str:
    """Hide a password inside a database URL (scheme://user:password@host/db)."""
    if url_password(url) is None:
        return url
    scheme, _sep, rest = url.partition("://")
    creds, _at, host = rest.rpartition("@")
    return f"{scheme}://{creds.split(':', 1)[0]}:****@{host}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment and `.env`; a bad value is a ConfigError naming it."""
    try:
        return Settings()
    except ValidationError as error:
        problems = [
            f"{'.'.join(map(str, e['loc']))}={e['input']!r}: {e['msg']}" for e in error.errors()
        ]
        raise ConfigError("invalid setting: " + "; ".join(problems)) from None


read_secrets_from(lambda: get_settings().secret_values())
