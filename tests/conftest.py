from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, get_settings
from bot.content.bank import LABELLED_DIR

STARTER = {
    "question_bank/coding/coding-pair-sum-indices.yaml",
    "question_bank/system_design/sd-url-shortener.yaml",
    "question_bank/llm_deep_dive/dd-kv-cache.yaml",
    "question_bank/behavioral/beh-production-incident.yaml",
    "kb/reference/coding-pair-sum-indices.md",
    "kb/reference/sd-url-shortener.md",
    "kb/reference/dd-kv-cache.md",
    "kb/reference/beh-production-incident.md",
    f"{LABELLED_DIR}/dd-kv-cache.yaml",
}


LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0")


@pytest.fixture(autouse=True)
def _no_outbound_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The product works offline: any connection beyond loopback fails the test loudly."""
    real_connect = socket.socket.connect

    def guarded(sock: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if sock.family == socket.AF_UNIX or str(host).startswith(LOOPBACK):
            return real_connect(sock, address)  # type: ignore[arg-type]
        raise AssertionError(f"outbound connection attempted to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own data dir and no provider keys from the developer's shell."""
    monkeypatch.setenv("INTERVIEW_BOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHAINLIT_APP_ROOT", str(tmp_path / "chainlit"))
    for name in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "OPENAI_BASE_URL",
        "CHROMA_HOST",
        "INTERVIEW_BOT_GRADER",
        "INTERVIEW_BOT_DATABASE_URL",
        "DATABASE_URL",
        "INTERVIEW_BOT_CONTENT_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def mini_root(tmp_path: Path) -> Path:
    """A small, valid content root: the rubrics, one question of each kind, one labelled set."""
    root = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "rubrics", root / "rubrics")
    for rel in STARTER:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / rel, target)
    return root
