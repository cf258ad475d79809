from __future__ import annotations

import csv
import io
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy as sa

from bot.config import Settings
from bot.errors import BotError, NotFoundError
from bot.grading.grade import CriterionScore, Grade, GraderInfo, KeyPointResult
from bot.store import (
    ATTEMPT_COLUMNS,
    MIGRATIONS,
    AttemptStore,
    StoreError,
    collect_export,
    export_csv,
    export_json,
    metadata,
    migrate,
    migrations_table,
)
from bot.store.migrations import m001_initial_schema
from tests.postgres import postgres_database_url, postgres_url  # noqa: F401

BACKENDS = ["sqlite", "postgresql"]
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])
postgresql_only = pytest.mark.parametrize("backend", ["postgresql"])

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
R = TypeVar("R")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def url_for(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test that uses the store runs on a SQLite file and on a real PostgreSQL server."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A new, empty store: a SQLite file in new dirs, or a new database on the server."""
    if backend == "sqlite":
        return url_for(tmp_path / "nested" / "dir" / "history.sqlite3")
    return str(request.getfixturevalue("postgres_database_url"))


@pytest.fixture
def server_url(request: pytest.FixtureRequest) -> str:
    """The PostgreSQL server's admin URL (a superuser, or a role that may create roles)."""
    return str(request.getfixturevalue("postgres_url"))


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


def at_once(threads: int, work: Callable[[int], R]) -> list[R]:
    """work(0), ..., work(threads - 1), each in its own thread, all released at the same moment."""
    barrier = threading.Barrier(threads)

    def run(n: int) -> R:
        barrier.wait(timeout=60)  # a thread that failed early breaks the barrier: no hang
        return work(n)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(threads)))


# --- schema -----------------------------------------------------------------------------------


def recorded_migrations(conn: sa.Connection) -> list[tuple[str, datetime]]:
    query = sa.select(migrations_table.c.name, migrations_table.c.applied_at)
    return [(name, at) for name, at in conn.execute(query.order_by(migrations_table.c.name))]


def test_migrations_are_recorded_once_and_reopening_changes_nothing(
    db_url: str, clock: Clock
) -> None:
    AttemptStore.open(db_url, clock=clock).close()
    with AttemptStore.open(db_url) as store, store.engine.begin() as conn:
        first = recorded_migrations(conn)
        assert migrate(conn) == []
        assert recorded_migrations(conn) == first
        users = conn.scalars(sa.text("SELECT id FROM users")).all()
    assert [name for name, _ in first] == sorted(fn.__name__ for fn in MIGRATIONS)
    assert users == ["local"]


def test_an_older_schema_is_upgraded_with_only_the_missing_migrations(
    db_url: str, tmp_path: Path
) -> None:
    (tmp_path / "nested" / "dir").mkdir(parents=True)  # where the SQLite file goes
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:  # a store made by a version that knew only the first step
        migrations_table.create(conn)
        m001_initial_schema(conn)
        conn.execute(migrations_table.insert().values(name="m001_initial_schema", applied_at=T0))
    engine.dispose()

    with AttemptStore.open(db_url) as store, store.engine.connect() as conn:
        applied = recorded_migrations(conn)
        users = conn.scalars(sa.text("SELECT id FROM users")).all()
    assert [name for name, _ in applied] == sorted(fn.__name__ for fn in MIGRATIONS)
    assert len(applied) > 1 and applied[0] == ("m001_initial_schema", T0)  # not run again
    assert users == ["local"]


@sqlite_only
def test_sqlite_file_is_created_in_new_dirs_in_wal_mode(tmp_path: Path, db_url: str) -> None:
    with AttemptStore.open(db_url) as store, store.engine.connect() as conn:
        mode = conn.scalar(sa.text("PRAGMA journal_mode"))
    assert (tmp_path / "nested" / "dir" / "history.sqlite3").is_file()
    assert mode == "wal"


@postgresql_only
def test_postgresql_migrations_are_recorded_and_rerunning_them_is_a_no_op(db_url: str) -> None:
    with AttemptStore.open(db_url) as store, store.engine.begin() as conn:
        assert conn.dialect.name == "postgresql"
        recorded = recorded_migrations(conn)
        tables = set(
            conn.scalars(
                sa.text(
                    "SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = current_schema()"
                )
            )
        )
        types = dict(
            conn.execute(
                sa.text(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = 'attempts'"
                )
            ).all()
        )
    assert [name for name, _ in recorded] == [fn.__name__ for fn in MIGRATIONS]
    assert tables == set(metadata.tables)
    assert {"migrations", "users", "sessions", "attempts"} <= tables
    assert types["answer"] == "text"
    assert types["created_at"] == "timestamp without time zone"  # naive UTC, see UTCDateTime
    assert types["difficulty"] == "integer" and types["score"] == "double precision"

    for _ in range(2):
        with AttemptStore.open(db_url) as again, again.engine.begin() as conn:
            assert migrate(conn) == []
            assert recorded_migrations(conn) == recorded  # same rows, same applied_at
            assert conn.scalar(sa.text("SELECT count(*) FROM users")) == 1


@postgresql_only
def test_postgresql_enforces_the_foreign_keys(db_url: str) -> None:
    with AttemptStore.open(db_url) as store:
        with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO sessions (id, user_id, mode, started_at)"
                    " VALUES ('s1', 'nobody', 'practice', now())"
                )
            )


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
        written = export_csv(collect_export(again, {}), out)
    assert (attempt.id, attempt.answer, attempt.round) == (aid, "first draft", "onsite-1")
    assert (attempt.hints_used, attempt.duration_s) == (2, 41.5)
    assert attempt.submitted_at is not None
    assert attempt.grade is None and attempt.score is None and attempt.graded_at is None
    assert written == 1, "an attempt never graded is exported all the same"
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert (row["attempt_id"], row["answer"], row["score"]) == (aid, "first draft", "")


HOSTILE = {
    "ten_megabytes": "x" * (10 * 1024 * 1024 - 3) + "end",
    "empty": "",
    "emoji": "🙂👩🏽‍💻 résumé — ∑ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "sql_injection": "'); DROP TABLE attempts; --",
    "control_chars": "a\x00b\x01\x07\x1b[31mred\x1b[0m\r\n\t\x7f\x85\u2028end",
    "binary_looking": bytes(range(256)).decode("latin-1"),
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_answers_are_stored_exactly(
    db_url: str, backend: str, store: AttemptStore, text: str
) -> None:
    sid = store.start_session("practice")
    aid = answer(store, sid, text)
    answer(store, sid, "a later answer")
    store.close()

    with AttemptStore.open(db_url) as again:
        stored = {a.id: a.answer for a in again.attempts()}
    # PostgreSQL text cannot hold NUL: the only change made to an answer (see save_answer).
    expected = text.replace("\x00", "") if backend == "postgresql" else text
    assert len(stored) == 2
    assert stored[aid] == expected
    assert stored[aid].encode("utf-8") == expected.encode("utf-8")


def test_nul_is_kept_by_sqlite_and_stripped_by_postgresql(
    db_url: str, backend: str, store: AttemptStore
) -> None:
    sid = store.start_session("practice")
    aid = answer(store, sid, "\x00lead, mid\x00dle, trail\x00")
    store.record_grade(aid, make_grade())  # the grade's JSON is stored next to that text
    store.close()

    with AttemptStore.open(db_url) as again:
        (attempt,) = again.attempts()
    expected = {
        "sqlite": "\x00lead, mid\x00dle, trail\x00",
        "postgresql": "lead, middle, trail",
    }[backend]
    assert attempt.answer == expected
    assert attempt.grade == make_grade()


def test_lone_surrogates_become_replacement_characters(db_url: str, store: AttemptStore) -> None:
    sid = store.start_session("practice")
    raw = b"caf\xe9 ok \xff\xfe".decode("utf-8", "surrogateescape")
    answer(store, sid, raw)
    assert store.attempts()[0].answer == "caf\ufffd ok \ufffd\ufffd"
    store.save_session_state(sid, {"draft": raw})  # JSON escapes surrogates, so they survive
    store.close()

    with AttemptStore.open(db_url) as again:
        assert again.attempts()[0].answer == "caf\ufffd ok \ufffd\ufffd"
        assert again.load_session(sid).state == {"draft": raw}


def test_unknown_ids_raise_not_found(store: AttemptStore) -> None:
    with pytest.raises(NotFoundError, match="unknown session 'nope'"):
        answer(store, "nope")
    with pytest.raises(NotFoundError, match="unknown attempt 'nope'"):
        store.record_grade("nope", make_grade())
    with pytest.raises(NotFoundError):
        store.load_session("nope")
    with pytest.raises(NotFoundError):
        store.save_session_state("nope", {})
    with pytest.raises(NotFoundError):
        store.end_session("nope")
    assert store.attempts() == [] and store.sessions() == []


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


def test_grading_again_replaces_the_grade(store: AttemptStore, clock: Clock) -> None:
    aid = answer(store, store.start_session("practice"))
    store.record_grade(aid, make_grade(score=40))
    clock.tick(minutes=5)
    regrade = make_grade(score=90, levels={"correctness": 4})
    store.record_grade(aid, regrade)
    (attempt,) = store.attempts()
    assert (attempt.grade, attempt.score) == (regrade, 90)
    assert attempt.graded_at == T0 + timedelta(minutes=5)


def test_one_attempts_grade_and_the_questions_a_user_answered(store: AttemptStore) -> None:
    first = answer(store, store.start_session("drill"))
    other = store.start_session("drill", user_id="someone-else")
    answer(store, other, question_id="sd-url-shortener")
    assert store.grade(first) is None
    store.record_grade(first, make_grade(score=55))
    graded = store.grade(first)
    assert graded is not None and graded.score == 55
    with pytest.raises(NotFoundError, match="unknown attempt 'nope'"):
        store.grade("nope")
    assert store.question_ids() == {"dd-kv-cache"}
    assert store.question_ids("someone-else") == {"sd-url-shortener"}
    assert store.question_ids("nobody") == set()


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


def test_history_spans_sessions_and_restarts(
    db_url: str, store: AttemptStore, clock: Clock
) -> None:
    first = store.start_session("practice")
    store.record_grade(answer(store, first, "day one"), make_grade(50))
    store.end_session(first)
    store.close()

    clock.tick(days=1)
    with AttemptStore.open(db_url, clock=clock) as again:
        second = again.start_session("mock", plan="onsite")
        day_two = answer(again, second, "day two", competency="system-design")
        again.record_grade(day_two, make_grade(70))
        clock.tick(minutes=1)
        answer(again, second, "day two, ungraded")

    with AttemptStore.open(db_url) as third:
        attempts = third.attempts()
        sessions = third.sessions()
        summary = third.summary()
    assert [(a.mode, a.answer) for a in attempts] == [
        ("practice", "day one"),
        ("mock", "day two"),
        ("mock", "day two, ungraded"),
    ]
    assert [(s.id, len(s.attempts)) for s in sessions] == [(first, 1), (second, 2)]
    assert sessions[0].ended_at == T0 and sessions[1].ended_at is None
    assert sessions[1].started_at == T0 + timedelta(days=1)
    assert {k: (v.attempts, v.graded, v.mean_score) for k, v in summary.items()} == {
        "llm-internals": (2, 1, 50.0),
        "system-design": (1, 1, 70.0),
    }


USER_IDS = ["alice", "Zoë 用户 🙂", "o'brien\"; DROP TABLE users; --", "u" * 500]


def test_sessions_of_other_users_are_separate(db_url: str, store: AttemptStore) -> None:
    mine = store.start_session("practice")
    theirs = {user: store.start_session("practice", user_id=user) for user in USER_IDS}
    answer(store, mine, "mine")
    for user, sid in theirs.items():
        answer(store, sid, f"by {user}")
    store.start_session("drill", user_id="alice")  # a second session makes no second user
    store.close()

    with AttemptStore.open(db_url) as again, again.engine.connect() as conn:
        assert [a.answer for a in again.attempts()] == ["mine"]
        for user, sid in theirs.items():
            assert [a.answer for a in again.attempts(user)] == [f"by {user}"]
            assert [a.user_id for a in again.attempts(user)] == [user]
            assert sid in [s.id for s in again.sessions(user)]
            assert again.load_session(sid, user_id=user).user_id == user
            assert set(again.summary(user)) == {"llm-internals"}
        assert len(again.sessions("alice")) == 2
        assert again.attempts("nobody") == [] and again.summary("nobody") == {}
        stored_users = set(conn.scalars(sa.text("SELECT id FROM users")))
    assert stored_users == {"local", *USER_IDS}


def test_one_new_user_starting_sessions_at_once_gets_them_all(db_url: str) -> None:
    """Tabs of a user the store has never seen, opened at the same moment (5 rounds of 8)."""
    rounds, threads = 5, 8
    with AttemptStore.open(db_url) as store:
        for r in range(rounds):
            user = f"newcomer-{r}"
            started = at_once(threads, lambda _, u=user: store.start_session("practice", user_id=u))
            assert {s.id for s in store.sessions(f"newcomer-{r}")} == set(started)
            assert len(set(started)) == threads
        with store.engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM users")) == 1 + rounds


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


# --- follow-ups and review cards -------------------------------------------------------------


def test_follow_ups_are_kept_in_order_under_their_attempt(
    db_url: str, backend: str, store: AttemptStore, clock: Clock
) -> None:
    sid = store.start_session("mock")
    first, second = answer(store, sid, "one"), answer(store, sid, "two")
    store.save_follow_up(first, "Why K and V?", "because\x00 reuse")
    clock.tick(seconds=1)
    store.save_follow_up(first, "And GQA?", "fewer KV heads 🙂")
    store.save_follow_up(second, "Paging?", "blocks")
    store.close()

    with AttemptStore.open(db_url) as again:
        assert again.follow_ups(first) == [
            ("Why K and V?", "because reuse" if backend == "postgresql" else "because\x00 reuse"),
            ("And GQA?", "fewer KV heads 🙂"),
        ]
        assert again.follow_ups(second) == [("Paging?", "blocks")]
        assert again.follow_ups("nope") == []
        with pytest.raises(sa.exc.IntegrityError):  # the attempt must exist (foreign key)
            again.save_follow_up("nope", "?", "!")


def test_review_cards_are_replaced_per_item_and_sorted_by_due_date(
    db_url: str, store: AttemptStore
) -> None:
    store.save_review_card("dd-kv-cache", '{"stability": 1}', T0 + timedelta(days=3))
    store.save_review_card("sd-url-shortener", '{"stability": 2}', T0 + timedelta(days=1))
    store.save_review_card("dd-kv-cache", '{"stability": 5}', T0 + timedelta(hours=1))
    store.save_review_card("dd-kv-cache", '{"other": true}', T0, user_id="brand-new-user")
    store.close()

    with AttemptStore.open(db_url) as again:
        cards = again.review_cards()
        assert list(cards.items()) == [
            ("dd-kv-cache", '{"stability": 5}'),
            ("sd-url-shortener", '{"stability": 2}'),
        ]
        assert again.review_cards("brand-new-user") == {"dd-kv-cache": '{"other": true}'}
        assert again.review_cards("nobody") == {}


def test_the_same_review_card_saved_at_once_keeps_one_card(db_url: str) -> None:
    """Tabs grading the same item for the same user at the same moment (10 rounds of 10)."""
    rounds, threads = 10, 10
    with AttemptStore.open(db_url) as store:
        for r in range(rounds):

            def save(n: int, item: str = f"item-{r}") -> None:
                store.save_review_card(item, f'{{"n": {n}}}', T0 + timedelta(days=n))

            at_once(threads, save)
        cards = store.review_cards()
        with store.engine.connect() as conn:
            rows = conn.scalar(sa.text("SELECT count(*) FROM review_cards"))
    assert rows == rounds
    assert sorted(cards) == sorted(f"item-{r}" for r in range(rounds))
    assert set(cards.values()) <= {f'{{"n": {n}}}' for n in range(threads)}


# --- concurrency ------------------------------------------------------------------------------


def test_concurrent_writers_lose_no_rows(db_url: str) -> None:
    """20 threads share one store (as the app's workers do), each saving and grading 25 answers."""
    threads, per_thread = 20, 25
    with AttemptStore.open(db_url) as store:

        def work(worker: int) -> str:
            sid = store.start_session("practice", user_id=f"user-{worker % 5}")
            for n in range(per_thread):
                aid = answer(store, sid, f"{worker}:{n}", duration_s=float(n))
                store.record_grade(aid, make_grade(score=float(n)))
            return sid

        sids = at_once(threads, work)

        with store.engine.connect() as conn:
            total = conn.scalar(sa.text("SELECT count(*) FROM attempts"))
            graded = conn.scalar(sa.text("SELECT count(*) FROM attempts WHERE score IS NOT NULL"))
        rows = [a for user in range(5) for a in store.attempts(f"user-{user}")]
    assert (total, graded) == (threads * per_thread, threads * per_thread) == (500, 500)
    assert len(set(sids)) == threads
    assert sorted(a.answer for a in rows) == sorted(
        f"{w}:{n}" for w in range(threads) for n in range(per_thread)
    )
    for a in rows:  # every grade landed on its own answer
        assert a.score == a.duration_s == float(a.answer.split(":")[1])
        assert a.grade is not None and a.grade.score == a.score


# --- export -----------------------------------------------------------------------------------


def test_csv_has_one_row_per_attempt_with_criterion_levels(
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
    assert export_csv(collect_export(store, {}), out) == 3
    out.seek(0)
    reader = csv.DictReader(out)
    rows = list(reader)
    assert reader.fieldnames == [
        *ATTEMPT_COLUMNS, "criterion:correctness", "criterion:depth", "criterion:tradeoffs"
    ]  # fmt: skip
    assert [r["question_id"] for r in rows] == ["dd-kv-cache", "dd-kv-cache", "sd-url-shortener"]
    assert rows[0]["created_at"] == T0.isoformat()
    assert (rows[0]["mode"], rows[0]["round"], rows[0]["score"]) == ("mock", "r1", "60.0")
    assert (rows[0]["criterion:correctness"], rows[0]["criterion:depth"]) == ("4", "1")
    assert rows[0]["criterion:tradeoffs"] == ""
    assert rows[1]["score"] == rows[1]["criterion:correctness"] == ""
    assert (rows[2]["criterion:tradeoffs"], rows[2]["criterion:depth"]) == ("0", "")
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
    doc = json.loads(json.dumps(export_json(collect_export(store, {}), now=now)))
    assert doc["format_version"] == 2
    assert doc["exported_at"] == "2025-04-01T00:00:00+00:00"
    (session,) = doc["sessions"]
    assert (session["id"], session["mode"], session["plan"]) == (sid, "practice", "warmup")
    assert session["state"] == {"position": 2}
    first, second = doc["attempts"]
    assert session["attempt_ids"] == [first["attempt_id"], second["attempt_id"]]
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


@postgresql_only
def test_wrong_postgres_password_is_a_store_error_with_the_password_masked(
    db_url: str, server_url: str
) -> None:
    role = f"ib_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN PASSWORD 'right-Pa55word'"))
    try:
        good = sa.make_url(db_url).set(username=role, password="right-Pa55word")
        bad = good.set(password="wrong-Pa55word")
        with pytest.raises(StoreError) as info:
            AttemptStore.open(bad.render_as_string(hide_password=False))
        check = sa.create_engine(good, poolclass=sa.NullPool)
        with check.connect() as conn:  # the right password gets in: only the password was wrong
            assert conn.scalar(sa.text("SELECT current_user")) == role
        check.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP ROLE {role}"))
        admin.dispose()
    message = str(info.value)
    assert "wrong-Pa55word" not in message and "Pa55word" not in message
    assert f"postgresql+psycopg://{role}:***@" in message
    assert "password authentication failed" in message
    assert isinstance(info.value.__cause__, sa.exc.OperationalError)


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
