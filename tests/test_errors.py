"""scrub and public: secrets never leave the process, whether configured or only key-shaped."""

from __future__ import annotations

import json
import math

import pytest

from bot.config import Settings, get_settings
from bot.errors import ProviderError, public, scrub

GSK = "gsk_Zq3vT9wLmN4pR7sK2xYb6cHd8fJg1aE5uWo0iQ"


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        (f"401 Invalid API Key: {GSK}", GSK),
        ("key sk-proj-Ab12Cd34Ef56Gh78 refused", "sk-proj-Ab12Cd34Ef56Gh78"),
        ("sk-ant-api03-Xy9_Zz8-Ww7 is wrong", "sk-ant-api03-Xy9_Zz8-Ww7"),
        ("xai-9fK2mQ7vL3pX8rT1wZ5c rejected", "xai-9fK2mQ7vL3pX8rT1wZ5c"),
        ("AIzaSyD4-9f8g7h6j5k4l3m2n1b0v9c8x7z6 expired", "AIzaSyD4-9f8g7h6j5k4l3m2n1b0v9c8x7z6"),
        (
            "token ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        ),
        ("hf_AbCdEfGh1234567890IjKl revoked", "hf_AbCdEfGh1234567890IjKl"),
        ("AKIAIOSFODNN7EXAMPLE denied", "AKIAIOSFODNN7EXAMPLE"),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("GET /v1?api_key=opensesame42&x=1", "opensesame42"),
        ('{"password": "hunter22"}', "hunter22"),
        ("x-api-key: topsecretvalue", "topsecretvalue"),
    ],
)
def test_key_shapes_are_scrubbed(text: str, gone: str) -> None:
    clean = scrub(text)
    assert gone not in clean and "****" in clean


@pytest.mark.parametrize(
    "text",
    [
        "call hf_hub_download, then task-force the risk-averse plan",
        "the secret: keep the cache warm",
        "Bearer-less text and a gsk_ prefix alone",
    ],
)
def test_ordinary_words_are_kept(text: str) -> None:
    assert scrub(text) == text


def test_configured_secrets_are_scrubbed_by_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "plain-words-key-1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "another one 2")
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:p%40ss-w0rd@db.example/bot")
    get_settings.cache_clear()
    text = "echo plain-words-key-1 / another one 2 / p%40ss-w0rd / p@ss-w0rd"
    assert scrub(text, limit=None) == "echo **** / **** / **** / ****"
    error = ProviderError("openai", "denied for plain-words-key-1", outputs=("p@ss-w0rd",))
    assert "plain-words-key-1" not in str(error) and error.outputs == ("****",)


def test_secrets_of_other_settings_are_scrubbed_when_passed() -> None:
    settings = Settings(openai_api_key="local-key-123", database_url="sqlite:///x.db")
    assert settings.secret_values() == ("local-key-123",)
    assert scrub("got local-key-123", secrets=settings.secret_values()) == "got ****"
    assert "local-key-123" in scrub("got local-key-123"), "not configured in this process"


def test_public_scrubs_every_string_and_drops_what_json_cannot_hold() -> None:
    data = {"seconds": math.nan, "t": [math.inf, -math.inf, 1.5], "note": f"key {GSK}", "n": 3}
    clean = public(data)
    assert clean == {"seconds": None, "t": [None, None, 1.5], "note": "key ****", "n": 3}
    json.dumps(clean, allow_nan=False)
