from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import AliasChoices

from bot.config import GRADER_CHOICES, PROJECT_ROOT, Settings, get_settings
from bot.errors import ConfigError
from bot.grading.graders import resolve_choice


def test_cache_and_data_folders_follow_the_xdg_base_folders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("INTERVIEW_BOT_DATA_DIR")
    monkeypatch.delenv("INTERVIEW_BOT_MODEL_CACHE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    settings = Settings()
    assert settings.data_dir == tmp_path / "share" / "interview-bot"
    assert settings.model_cache == tmp_path / "cache" / "interview-bot"
    monkeypatch.setenv("XDG_CACHE_HOME", "")  # set but empty: the home folder's default
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Settings().model_cache == tmp_path / "home" / ".cache" / "interview-bot"


def test_a_named_folder_wins_over_the_xdg_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("INTERVIEW_BOT_MODEL_CACHE", str(tmp_path / "models"))
    assert Settings().model_cache == tmp_path / "models"


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("CHROMA_PORT", "abc", "valid integer"),
        ("INTERVIEW_BOT_GRADER", "gpt", "'auto', 'offline'"),
        ("INTERVIEW_BOT_RUNNER_CONCURRENCY", "0", "greater than or equal to 1"),
    ],
)
def test_a_bad_value_is_a_config_error_naming_the_variable(
    name: str, value: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name) as raised:
        get_settings()
    assert said in str(raised.value) and repr(value) in str(raised.value)


def test_every_grader_name_is_accepted_by_the_settings_and_the_factory() -> None:
    for name in GRADER_CHOICES:
        assert Settings(grader=name).grader == name
        assert resolve_choice(Settings(), name) in GRADER_CHOICES
    with pytest.raises(ConfigError, match=", ".join(GRADER_CHOICES)):
        resolve_choice(Settings(), "gpt")


def test_every_variable_is_in_the_readme_configuration_table() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        assert isinstance(alias, AliasChoices), name
        for variable in alias.choices:
            assert f"`{variable}`" in table, f"{variable} ({name}) is not documented"
