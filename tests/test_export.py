"""The exports: every attempt of the history, graded or not, with its question, answer, follow-ups,
key points and feedback, in a flat CSV, a long key-point CSV and a versioned JSON document."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import PROJECT_ROOT
from bot.content import Question, load_bank
from bot.grading.grade import Grade, KeyPointResult, RedFlagResult, SetAside
from bot.store import (
    EXPORT_FORMAT_VERSION,
    KEY_POINT_COLUMNS,
    AttemptStore,
    Export,
    collect_export,
    export_csv,
    export_json,
    export_key_points_csv,
)
from bot.store.export import attempt_fields
from tests import test_history as shared
from tests.postgres import postgres_database_url, postgres_url  # noqa: F401
from tests.test_history import T0, Clock, answer, make_grade

# The store fixtures of test_history (both backends), shared under their own names.
backend, db_url, clock, store = shared.backend, shared.db_url, shared.clock, shared.store

# What the exports promise for every attempt (issue #19), written out rather than imported.
PROMISED = [
    "attempt_id", "question_id", "question_title", "question_prompt", "kind", "competency",
    "difficulty", "session_id", "mode", "round", "created_at", "submitted_at", "graded_at",
    "answer", "follow_up_questions", "follow_up_answers", "key_points_covered",
    "key_points_partial", "key_points_missed", "key_points_contradicted", "red_flags", "set_aside",
    "language",
    "strengths", "improvements", "notes", "score", "passed", "grader", "grader_model",
    "grader_version", "seen_key_points",
]  # fmt: skip
AWKWARD = 'She said "no, thanks" | then,\nwrote:\r\n  x = "a,b"\n🙂 résumé\t\x1b[0m'
RETIRED = "retired-question"  # answered once, no longer in the bank


@pytest.fixture(scope="module")
def questions() -> dict[str, Question]:
    return load_bank(PROJECT_ROOT).questions


@pytest.fixture
def history(store: AttemptStore, clock: Clock) -> Iterator[AttemptStore]:
    """A mock session: a graded attempt with two follow-ups, an ungraded one, a graded retry
    after the feedback, and an ungraded answer to a retired question; bob's attempt besides."""
    sid = store.start_session("mock", plan="quick")
    first = answer(store, sid, "KV cache, first go", round_name="r1", hints_used=1)
    store.record_grade(first, with_partial(make_grade(55)))
    clock.tick(minutes=1)
    store.save_follow_up(first, "Why only K and V?", AWKWARD)
    clock.tick(minutes=1)
    store.save_follow_up(first, "And with GQA?", "fewer KV heads, so a smaller cache")
    clock.tick(minutes=1)
    answer(store, sid, "ungraded, the grader never answered", round_name="r1")
    clock.tick(minutes=1)
    retry = answer(store, sid, "KV cache, after reading the feedback", round_name="r2")
    store.record_grade(retry, make_grade(85))
    clock.tick(minutes=1)
    answer(store, sid, "an old answer", question_id=RETIRED)
    answer(store, store.start_session("drill", user_id="bob"), "bob's answer", user_id="bob")
    yield store


def with_partial(grade: Grade) -> Grade:
    partial = KeyPointResult(
        id="kp-gqa", text="GQA shrinks it", weight=1.0, status="partial", confidence=0.5
    )
    set_aside = SetAside(reason="copy", text="a pasted paragraph", source="kb/reference/kv.md")
    return grade.model_copy(
        update={
            "key_points": [*grade.key_points, partial],
            "set_aside": [set_aside],
            "language": "German",
        }
    )


def csv_rows(write: Any, data: Export, path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Write through a real UTF-8 file and read it back with csv.DictReader (no pandas)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        write(data, f)
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    return list(reader.fieldnames or []), rows


def test_the_csv_holds_every_attempt_of_the_history_with_every_promised_column(
    history: AttemptStore, questions: dict[str, Question], tmp_path: Path
) -> None:
    data = collect_export(history, questions)
    header, rows = csv_rows(export_csv, data, tmp_path / "attempts.csv")

    assert [r["attempt_id"] for r in rows] == [a.id for a in history.attempts()]
    assert len(rows) == 4, "graded, ungraded and retired-question attempts alike; not bob's"
    assert [c for c in PROMISED if c not in header] == []
    first, ungraded, retry, retired = rows
    kv = questions["dd-kv-cache"]
    assert (first["question_title"], first["question_prompt"]) == (kv.title, kv.prompt)
    assert (first["mode"], first["plan"], first["round"]) == ("mock", "quick", "r1")
    assert first["created_at"] == T0.isoformat() and first["graded_at"] == T0.isoformat()
    assert first["follow_up_questions"] == "Why only K and V? | And with GQA?"
    assert first["follow_up_answers"] == f"{AWKWARD} | fewer KV heads, so a smaller cache"
    assert first["key_points_covered"] == "caches K and V"
    assert first["key_points_partial"] == "GQA shrinks it"
    assert first["key_points_missed"] == "PagedAttention"
    assert first["set_aside"] == "copy: a pasted paragraph (from kb/reference/kv.md)"
    assert (first["language"], first["red_flags"]) == ("German", "")
    assert (first["strengths"], first["improvements"], first["notes"]) == (
        "clear",
        "mention paging",
        "truncated",
    )
    assert (first["score"], first["passed"], first["seen_key_points"]) == ("55.0", "False", "False")
    assert (first["grader"], first["grader_model"], first["grader_version"]) == (
        "offline",
        "bm25+minilm",
        "1.2",
    )
    assert (first["criterion:correctness"], first["criterion:depth"]) == ("3", "2")
    assert ungraded["answer"] == "ungraded, the grader never answered"
    assert (ungraded["score"], ungraded["passed"], ungraded["graded_at"]) == ("", "", "")
    assert ungraded["key_points_missed"] == ungraded["follow_up_questions"] == ""
    assert (retry["seen_key_points"], retry["passed"], retry["round"]) == ("True", "True", "r2")
    assert (retired["question_id"], retired["question_title"]) == (RETIRED, "")


def test_the_json_holds_every_attempt_with_its_follow_ups_and_loads_back(
    history: AttemptStore, questions: dict[str, Question]
) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    doc = json.loads(json.dumps(export_json(collect_export(history, questions), now=now)))

    assert doc["format_version"] == EXPORT_FORMAT_VERSION == 2
    assert doc["exported_at"] == "2026-12-01T00:00:00+00:00"
    attempts = doc["attempts"]
    assert [a["attempt_id"] for a in attempts] == [a.id for a in history.attempts()]
    for attempt in attempts:
        assert [c for c in PROMISED if c not in attempt] == [], attempt["attempt_id"]
    first, ungraded, retry, retired = attempts
    assert [(f["prompt"], f["answer"]) for f in first["follow_ups"]] == [
        ("Why only K and V?", AWKWARD),
        ("And with GQA?", "fewer KV heads, so a smaller cache"),
    ]
    assert first["follow_up_questions"] == ["Why only K and V?", "And with GQA?"]
    assert first["key_points_missed"] == ["PagedAttention"] and first["passed"] is False
    statuses = {k["id"]: (k["status"], k["confidence"]) for k in first["key_points"]}
    assert statuses == {
        "kp-cache": ("covered", 0.9),
        "kp-paged": ("missed", 0.1),
        "kp-gqa": ("partial", 0.5),
    }
    assert Grade.model_validate(first["grade"]) == history.grade(first["attempt_id"])
    assert ungraded["grade"] is None and ungraded["follow_ups"] == ungraded["key_points"] == []
    assert ungraded["score"] is None and ungraded["strengths"] == []
    assert retry["seen_key_points"] is True and retry["plan"] == "quick"
    assert retired["question_title"] is None and retired["answer"] == "an old answer"
    (session,) = doc["sessions"]
    assert session["plan"] == "quick" and session["attempt_ids"] == [
        a["attempt_id"] for a in attempts
    ]


@pytest.mark.parametrize(
    "text",
    [AWKWARD, "a,b,c", '"quoted"', "line one\nline two\n", "tab\there", " | ", "", "𝔘𝔫𝔦 🙂"],
)
def test_text_with_commas_newlines_and_quotes_round_trips(
    store: AttemptStore, questions: dict[str, Question], tmp_path: Path, text: str
) -> None:
    sid = store.start_session("practice")
    attempt = answer(store, sid, text)
    store.save_follow_up(attempt, text, text)
    data = collect_export(store, questions)

    _, [row] = csv_rows(export_csv, data, tmp_path / "a.csv")
    assert row["answer"] == row["follow_up_questions"] == row["follow_up_answers"] == text
    [doc] = json.loads(json.dumps(export_json(data), ensure_ascii=False))["attempts"]
    assert doc["answer"] == doc["follow_ups"][0]["answer"] == text


def test_the_key_point_csv_has_a_row_per_graded_attempt_and_key_point(
    history: AttemptStore, questions: dict[str, Question], tmp_path: Path
) -> None:
    data = collect_export(history, questions)
    header, rows = csv_rows(export_key_points_csv, data, tmp_path / "key-points.csv")

    assert header == KEY_POINT_COLUMNS
    for column in ["attempt_id", "question_id", "key_point_id", "text", "status", "confidence"]:
        assert column in header
    graded = [(a.id, a.grade) for a in history.attempts() if a.grade is not None]
    assert len(graded) == 2
    expected = [(aid, k.id, k.status) for aid, grade in graded for k in grade.key_points]
    assert [(r["attempt_id"], r["key_point_id"], r["status"]) for r in rows] == expected
    covered = rows[0]
    assert (covered["text"], covered["confidence"]) == ("caches K and V", "0.9")
    assert covered["evidence"] == "stores the keys and values" and rows[1]["evidence"] == ""


def test_red_flags_are_listed_when_the_grade_has_them(
    history: AttemptStore, questions: dict[str, Question]
) -> None:
    data = collect_export(history, questions)
    first = data.attempts[0]
    assert first.grade is not None
    flag = RedFlagResult(
        id="kv-for-queries",
        text="caches the queries too",
        correction="only keys and values are cached",
        quote="it caches Q, K and V",
    )
    flagged = first.grade.model_copy(update={"red_flags": [flag]})
    fields = attempt_fields(data, dataclasses.replace(first, grade=flagged))
    assert fields["red_flags"] == ["caches the queries too"]
    assert attempt_fields(data, first)["red_flags"] == []


def test_since_keeps_later_attempts_and_their_follow_ups_only(
    store: AttemptStore, clock: Clock, questions: dict[str, Question]
) -> None:
    sid = store.start_session("practice")
    early = answer(store, sid, "before")
    store.save_follow_up(early, "early?", "yes")
    clock.tick(days=2)
    late = answer(store, sid, "after")
    store.save_follow_up(late, "late?", "yes")

    data = collect_export(store, questions, since=T0.replace(day=T0.day + 1))
    assert [a.id for a in data.attempts] == [late]
    assert list(data.follow_ups) == [late]
    doc = export_json(data)
    assert doc["sessions"][0]["attempt_ids"] == [late]
