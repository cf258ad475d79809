from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.config import Settings
from bot.errors import BotError, NotFoundError
from bot.grading.grade import CriterionScore, Grade, GraderInfo, KeyPointResult
from bot.history import (
    MIGRATIONS,
    AttemptStore,
    StoreError,
    export_csv,
    export_json,
    migrate,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def url_for(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return url_for(tmp_path / "nested" / "dir" / "history.sqlite3")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_url: str, clock: Clock) -> Iterator[AttemptStore]:
    with AttemptStore.open(db_url, clock=clock) as s:
        yield s


def make_grade(
    score: float = 72.5,
    levels: dict[str, int] | None = None,
    question_id: str = "dd-kv-cache",
) -> Grade:
    levels = levels if levels is not None else {"correctness": 3, "depth": 2}
    criteria = [
        CriterionScore(
            id=cid,
            name=cid.title(),
            weight=1.0,
            level=level,
            label=f"level {level}",
            score=level * 25.0,
            evidence=["stores the keys and values"],
            feedback="say more about memory",
        )
        for cid, level in levels.items()
    ]
    key_points = [
        KeyPointResult(
            id="kp-cache",
            text="caches K and V",
            weight=2.0,
            status="covered",
            confidence=0.9,
            evidence="stores the keys and values",
        ),
        KeyPointResult(
            id="kp-paged", text="PagedAttention", weight=1.0, status="missed", confidence=0.1
        ),
    ]
    return Grade(
        question_id=question_id,
        rubric_id="deep-dive",
        rubric_version=3,
        score=score,
        passed=score >= 60,
        criteria=criteria,
        key_points=key_points,
        strengths=["clear"],
        improvements=["mention paging"],
        follow_up="How does GQA change the size?",
        notes=["truncated"],
        grader=GraderInfo(name="offline", model="bm25+minilm", version="1.2", prompt_hash="abc"),
    )


def answer(store: AttemptStore, session_id: str, text: str = "my answer", **kw: object) -> str:
    fields: dict[str, object] = {
        "question_id": "dd-kv-cache",
        "kind": "llm_deep_dive",
        "competency": "llm-internals",
        "difficulty": 3,
    }
    fields.update(kw)
    return store.save_answer(session_id=session_id, answer=text, **fields)  # type: ignore[arg-type]


# --- schema -----------------------------------------------------------------------------------


def test_open_creates_parent_dirs_wal_and_migrations_are_idempotent(
    tmp_path: Path, db_url: str
) -> None:
    AttemptStore.open(db_url).close()
    with AttemptStore.open(db_url) as store, store.engine.begin() as conn:
        assert migrate(conn) == []
        names = conn.scalars(sa.text("SELECT name FROM migrations ORDER BY name")).all()
        users = conn.scalars(sa.text("SELECT id FROM users")).all()
        mode = conn.scalar(sa.text("PRAGMA journal_mode"))
    assert (tmp_path / "nested" / "dir" / "history.sqlite3").is_file()
    assert names == sorted(fn.__name__ for fn in MIGRATIONS)
    assert users == ["local"]
    assert mode == "wal"


def test_default_settings_url_opens(tmp_path: Path) -> None:
    url = Settings().effective_database_url
    with AttemptStore.open(url) as store:
        store.start_session("practice")
    assert (tmp_path / "data" / "history.sqlite3").is_file()


# --- answers before grades --------------------------------------------------------------------


def test_answer_is_saved_before_grading_and_kept_when_grading_never_happens(
    db_url: str, store: AttemptStore
) -> None:
    sid = store.start_session("practice")
    aid = answer(store, sid, "first draft", round_name="onsite-1", hints_used=2, duration_s=41.5)
    store.close()  # the process dies before the grader returns

    with AttemptStore.open(db_url) as again:
        (attempt,) = again.attempts()
        out = io.StringIO()
        written = export_csv(again.attempts(), out)
    assert (attempt.id, attempt.answer, attempt.round) == (aid, "first draft", "onsite-1")
    assert (attempt.hints_used, attempt.duration_s) == (2, 41.5)
    assert attempt.submitted_at is not None
    assert attempt.grade is None and attempt.score is None and attempt.graded_at is None
    assert written == 0 and len(out.getvalue().splitlines()) == 1


HOSTILE = {
    "ten_megabytes": "x" * (10 * 1024 * 1024 - 3) + "end",
    "empty": "",
    "emoji": "🙂👩🏽‍💻 résumé — ∑ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "sql_injection": "'); DROP TABLE attempts; --",
    "control_chars": "a\x00b\x01\x07\x1b[31mred\x1b[0m\r\n\t\x7f\x85\u2028end",
    "binary_looking": bytes(range(256)).decode("latin-1"),
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_answers_are_stored_exactly(db_url: str, store: AttemptStore, text: str) -> None:
    sid = store.start_session("practice")
    aid = answer(store, sid, text)
    answer(store, sid, "a later answer")
    store.close()

    with AttemptStore.open(db_url) as again:
        stored = {a.id: a.answer for a in again.attempts()}
    assert len(stored) == 2
    assert stored[aid] == text
    assert stored[aid].encode("utf-8") == text.encode("utf-8")


def test_lone_surrogates_become_replacement_characters(store: AttemptStore) -> None:
    sid = store.start_session("practice")
    raw = b"caf\xe9 ok".decode("utf-8", "surrogateescape")
    answer(store, sid, raw)
    assert store.attempts()[0].answer == "caf\ufffd ok"


def test_unknown_ids_raise_not_found(store: AttemptStore) -> None:
    with pytest.raises(NotFoundError, match="unknown session 'nope'"):
        answer(store, "nope")
    with pytest.raises(NotFoundError, match="unknown attempt 'nope'"):
        store.record_grade("nope", make_grade())
    with pytest.raises(NotFoundError):
        store.load_session("nope")
    with pytest.raises(NotFoundError):
        store.save_session_state("nope", {})


# --- grades -----------------------------------------------------------------------------------


def test_grade_round_trips_and_fills_grade_columns(
    db_url: str, store: AttemptStore, clock: Clock
) -> None:
    grade = make_grade(score=81.3)
    sid = store.start_session("practice")
    aid = answer(store, sid)
    clock.tick(seconds=3)
    store.record_grade(aid, grade)
    store.close()

    with AttemptStore.open(db_url) as again:
        (attempt,) = again.attempts()
    assert attempt.grade == grade
    assert attempt.score == 81.3
    assert (attempt.grader, attempt.grader_model, attempt.grader_version) == (
        "offline",
        "bm25+minilm",
        "1.2",
    )
    assert (attempt.rubric_id, attempt.rubric_version) == ("deep-dive", 3)
    assert attempt.graded_at == T0 + timedelta(seconds=3)
    assert attempt.created_at == T0


# --- sessions ---------------------------------------------------------------------------------


def test_session_state_survives_a_restart(db_url: str, store: AttemptStore) -> None:
    state = {"position": 2, "plan": ["coding", "design"], "asked": ["q1", "q2"], "hints": {"q2": 1}}
    sid = store.start_session("mock", plan="faang-onsite")
    aid = answer(store, sid)
    store.save_session_state(sid, {"position": 1})
    store.save_session_state(sid, state)
    store.close()

    with AttemptStore.open(db_url) as again:
        loaded = again.load_session(sid)
        assert loaded.ended_at is None
        again.end_session(sid)
        ended = again.load_session(sid)
    assert (loaded.mode, loaded.plan, loaded.user_id, loaded.state) == (
        "mock",
        "faang-onsite",
        "local",
        state,
    )
    assert [a.id for a in loaded.attempts] == [aid]
    assert ended.ended_at is not None


def test_sessions_of_other_users_are_separate(store: AttemptStore) -> None:
    mine = store.start_session("practice")
    theirs = store.start_session("practice", user_id="alice")
    answer(store, mine, "mine")
    answer(store, theirs, "theirs")
    assert [a.answer for a in store.attempts()] == ["mine"]
    assert [a.answer for a in store.attempts("alice")] == ["theirs"]
    assert [s.id for s in store.sessions("alice")] == [theirs]


def test_since_filters_attempts_and_sessions(store: AttemptStore, clock: Clock) -> None:
    old = store.start_session("practice")
    answer(store, old, "old")
    clock.tick(days=2)
    cutoff = clock.now
    answer(store, old, "at the cutoff")
    clock.tick(hours=1)
    new = store.start_session("practice")
    answer(store, new, "new")

    assert [a.answer for a in store.attempts()] == ["old", "at the cutoff", "new"]
    assert [a.answer for a in store.attempts(since=cutoff)] == ["at the cutoff", "new"]
    assert [a.answer for a in store.attempts(since=cutoff + timedelta(minutes=1))] == ["new"]
    assert [s.id for s in store.sessions(since=cutoff)] == [new]


# --- export -----------------------------------------------------------------------------------


def test_csv_has_one_row_per_graded_attempt_with_criterion_levels(
    store: AttemptStore, clock: Clock
) -> None:
    sid = store.start_session("mock")
    first = answer(store, sid, round_name="r1", hints_used=1, duration_s=12.0)
    clock.tick(minutes=1)
    answer(store, sid)  # never graded
    clock.tick(minutes=1)
    third = answer(store, sid, question_id="sd-url-shortener", competency="system-design")
    store.record_grade(first, make_grade(60, {"correctness": 4, "depth": 1}))
    store.record_grade(third, make_grade(40, {"correctness": 2, "tradeoffs": 0}))

    out = io.StringIO()
    assert export_csv(store.attempts(), out) == 2
    out.seek(0)
    reader = csv.DictReader(out)
    rows = list(reader)
    assert reader.fieldnames == [
        "timestamp", "session_id", "mode", "round", "question_id", "kind", "competency",
        "difficulty", "score", "criterion:correctness", "criterion:depth",
        "criterion:tradeoffs", "hints_used", "duration_s", "grader", "grader_model",
        "grader_version", "rubric_id", "rubric_version",
    ]  # fmt: skip
    assert [r["question_id"] for r in rows] == ["dd-kv-cache", "sd-url-shortener"]
    assert rows[0]["timestamp"] == T0.isoformat()
    assert (rows[0]["mode"], rows[0]["round"], rows[0]["score"]) == ("mock", "r1", "60.0")
    assert (rows[0]["criterion:correctness"], rows[0]["criterion:depth"]) == ("4", "1")
    assert rows[0]["criterion:tradeoffs"] == ""
    assert (rows[1]["criterion:tradeoffs"], rows[1]["criterion:depth"]) == ("0", "")
    assert (rows[0]["hints_used"], rows[0]["duration_s"], rows[0]["rubric_version"]) == (
        "1",
        "12.0",
        "3",
    )


def test_json_export_holds_sessions_attempts_and_full_grades(
    store: AttemptStore, clock: Clock
) -> None:
    grade = make_grade()
    sid = store.start_session("practice", plan="warmup")
    graded = answer(store, sid, "'); DROP TABLE attempts; --")
    clock.tick(seconds=1)
    answer(store, sid, "ungraded")
    store.record_grade(graded, grade)
    store.save_session_state(sid, {"position": 2})

    now = datetime(2025, 4, 1, tzinfo=UTC)
    doc = json.loads(json.dumps(export_json(store.sessions(), now=now)))
    assert doc["format_version"] == 1
    assert doc["exported_at"] == "2025-04-01T00:00:00+00:00"
    (session,) = doc["sessions"]
    assert (session["id"], session["mode"], session["plan"]) == (sid, "practice", "warmup")
    assert session["state"] == {"position": 2}
    first, second = session["attempts"]
    assert first["answer"] == "'); DROP TABLE attempts; --"
    assert Grade.model_validate(first["grade"]) == grade
    assert first["grade"]["criteria"][0]["evidence"] == ["stores the keys and values"]
    assert second["grade"] is None and second["answer"] == "ungraded"


# --- summary ----------------------------------------------------------------------------------


def test_summary_means_and_trend_of_last_five(store: AttemptStore, clock: Clock) -> None:
    sid = store.start_session("practice")
    for score in [50, 50, 50, 50, 50, 70, 70, 70, 70, 70, 90]:
        clock.tick(minutes=1)
        store.record_grade(answer(store, sid), make_grade(score))
    for score in [30, 60]:
        clock.tick(minutes=1)
        store.record_grade(answer(store, sid, competency="system-design"), make_grade(score))
    answer(store, sid, competency="system-design")  # not graded yet

    summary = store.summary()
    llm, design = summary["llm-internals"], summary["system-design"]
    assert (llm.attempts, llm.graded) == (11, 11)
    assert llm.mean_score == 62.7  # 690 / 11, rounded
    assert llm.trend == 20.0  # last five [70, 70, 70, 70, 90] = 74 vs previous [50 x4, 70] = 54
    assert (design.attempts, design.graded, design.mean_score, design.trend) == (3, 2, 45.0, None)


def test_summary_is_empty_without_attempts(store: AttemptStore) -> None:
    assert store.summary() == {}


# --- errors -----------------------------------------------------------------------------------


def test_unreachable_postgres_is_a_store_error_without_the_password() -> None:
    url = "postgresql+psycopg://u:secret@127.0.0.1:1/x"
    with pytest.raises(StoreError) as info:
        AttemptStore.open(url)
    message = str(info.value)
    assert isinstance(info.value, BotError)
    assert "secret" not in message
    assert "u:***@127.0.0.1:1/x" in message
    assert isinstance(info.value.__cause__, sa.exc.OperationalError)


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="history.sqlite3"):
        AttemptStore.open(url_for(path))
