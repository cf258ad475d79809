"""What the CLI reads and prints when the input is hostile: bytes that are not UTF-8, escape
sequences in the candidate's code, times that are not numbers, paths it cannot write, and a
provider error that echoes an API key."""

from __future__ import annotations

import io
import json
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.cli.common import print_json, shown
from bot.config import get_settings
from bot.sandbox.report import RunReport, TestResult
from tests.fakes.llm_server import FakeLLMServer, Reply, error_body

PAIR_SUM = "coding-pair-sum-indices"
GSK = "gsk_Zq3vT9wLmN4pR7sK2xYb6cHd8fJg1aE5uWo0iQ"  # the configured key, echoed back
OTHER = "gsk_Pp0oO9iI8uU7yY6tT5rR4eE3wW2qQ1"  # a key of nobody here: scrubbed by its shape
PLAIN = "plain-anthropic-secret"  # configured, shaped like nothing: scrubbed by its value


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _stdin(monkeypatch: pytest.MonkeyPatch, raw: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))


@pytest.mark.parametrize(
    "args",
    [
        ("practice", "--question", "dd-kv-cache", "--grader", "offline"),
        ("grade", "--question", "dd-kv-cache", "--answer-file", "-", "--grader", "offline"),
    ],
)
def test_stdin_that_is_not_utf8_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    _stdin(monkeypatch, b"The KV cache \xff\xfe keeps keys")
    code, _, err = run(capsys, *args)
    assert code == 1
    assert "Traceback" not in err
    assert (
        err.splitlines()[-1] == "error: standard input is not UTF-8 text (byte 0xff at offset 13)"
    )


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("\x1b[2J\x1b[31mred\x1b[0m", "red"),
        ("\x1b]0;owned title\x07after", "after"),
        ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("bell\x07back\x08space\x7f", "bellbackspace"),
        ("line\r\nnext\roverwrite", "line\nnextoverwrite"),
        ("abc\u202edcba\u2066x\u2069", "abcdcbax"),
        ("c1 \x9b31m csi", "c1  csi"),
        ("keeps\ttabs and\nnewlines", "keeps\ttabs and\nnewlines"),
    ],
)
def test_shown_removes_what_a_terminal_would_act_on(raw: str, plain: str) -> None:
    assert shown(raw) == plain


def test_check_prints_no_escape_sequence_from_the_code(
    capsys: pytest.CaptureFixture[str], mini_root: Path, tmp_path: Path
) -> None:
    hostile = tmp_path / "hostile.py"
    hostile.write_text(
        "def pair_sum_indices(nums, target):\n"
        "    raise ValueError('\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred alert\\u202e')\n"
    )
    args = ["check", "--root", str(mini_root), "--question", PAIR_SUM, "--examples-only"]
    code, out, err = run(capsys, *args, "--code-file", str(hostile))
    assert code == 1 and "red alert" in out and "error" in out
    for printed in (out, err):
        assert not any(c in printed for c in "\x1b\x07\u202e")
    code, out, _ = run(capsys, *args, "--code-file", str(hostile), "--json")
    data = json.loads(out)
    assert "\x1b[31mred alert" in data["results"][0]["error"], "JSON keeps the text, escaped"
    assert "\x1b" not in out and "\\u001b" in out and "\u202e" not in out


def test_forged_times_become_zero_and_json_stays_strict(capsys: pytest.CaptureFixture[str]) -> None:
    forged = [math.nan, math.inf, -math.inf, -5.0]
    results = [TestResult(i, f"t{i}", "general", "passed", seconds=s) for i, s in enumerate(forged)]
    assert [r.seconds for r in results] == [0.0] * 4
    report = RunReport(results=results, seconds=math.nan)
    print_json(report.to_dict())
    text = capsys.readouterr().out

    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in JSON output")

    data = json.loads(text, parse_constant=refuse)
    assert data["seconds"] is None and [r["seconds"] for r in data["results"]] == [0.0] * 4


def _unwritable(tmp_path: Path) -> Path:
    """A folder this process may not create files in (sysfs refuses even root)."""
    if os.geteuid() == 0:
        return Path("/sys")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    return locked


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        (lambda tmp: tmp / "missing" / "out.csv", "No such file or directory"),
        (lambda tmp: tmp, "Is a directory"),
        (lambda tmp: tmp / "a-file" / "out.csv", "Not a directory"),
        (lambda tmp: _unwritable(tmp) / "out.csv", "denied"),
    ],
    ids=["missing-dir", "a-directory", "under-a-file", "no-permission"],
)
def test_export_to_a_bad_path_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, target: Any, reason: str
) -> None:
    (tmp_path / "a-file").write_text("x")
    out_file = target(tmp_path)
    code, out, err = run(capsys, "export", "--format", "json", "--out", str(out_file))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: cannot write {out_file}: ")
    assert reason in err


@pytest.fixture
def leaky_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    """An OpenAI-compatible server (Groq's key shape) whose errors echo the keys it was sent."""
    with FakeLLMServer() as server:
        monkeypatch.setenv("OPENAI_API_KEY", GSK)
        monkeypatch.setenv("ANTHROPIC_API_KEY", PLAIN)
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("INTERVIEW_BOT_LLM_RETRIES", "0")
        get_settings.cache_clear()
        yield server


def test_a_provider_error_echoing_keys_never_shows_them(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    leaky_server: FakeLLMServer,
) -> None:
    echo = f"Invalid API Key: {GSK} (also tried {OTHER} and {PLAIN})"
    leaky_server.replies = [Reply(401, error_body(401, echo)) for _ in range(2)]
    answer = "The KV cache keeps the keys and values of earlier tokens so they are not recomputed."
    _stdin(monkeypatch, answer.encode())
    shown_text = run(capsys, "practice", "--question", "dd-kv-cache")
    _stdin(monkeypatch, answer.encode())
    graded = run(capsys, "grade", "--question", "dd-kv-cache", "--answer-file", "-", "--json")
    assert json.loads(graded[1])["grader"]["fallback_reason"].count("****") == 3
    exported = run(capsys, "export", "--format", "json")
    history = run(capsys, "history", "--json")
    assert run(capsys, "export", "--format", "json", "--out", str(tmp_path / "e.json"))[0] == 0
    stored = [
        a.grade.model_dump_json()
        for a in _attempts()
        if a.grade is not None and a.grade.grader.fallback_reason
    ]
    assert len(leaky_server.requests) == 2 and len(stored) == 1
    assert "Invalid API Key: ****" in stored[0]
    places = [*shown_text[1:], *graded[1:], *exported[1:], *history[1:], *stored]
    places.append((tmp_path / "e.json").read_text())
    for text in places:
        for secret in (GSK, OTHER, PLAIN):
            assert secret not in text


def _attempts() -> list[Any]:
    from bot.store import AttemptStore

    with AttemptStore.open(get_settings().effective_database_url) as store:
        return store.attempts()


def test_schema_to_a_bad_folder_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("x")
    code, _, err = run(capsys, "schema", "--out", str(tmp_path / "a-file"))
    assert code == 1 and err == f"error: cannot write to {tmp_path / 'a-file'}: File exists\n"
