"""One save -> grade -> record path: the app and the command line grade an answer the same way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.config import PROJECT_ROOT, get_settings
from bot.content import ContentBank, load_bank
from bot.grading.grade import Grade, Grader
from bot.grading.offline import OfflineGrader
from bot.interview import EngineContext, InterviewSession
from bot.interview import events as ev
from bot.interview.attempt import single_attempt
from bot.store import AttemptStore
from tests.answers import GREEDY_COINS

OTHER_CODE = "```python\ndef coin_change(coins, amount):\n    return 0\n```"


@pytest.fixture(scope="module")
def bank() -> ContentBank:
    return load_bank(PROJECT_ROOT)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AttemptStore]:
    with AttemptStore.open(f"sqlite:///{tmp_path / 'history.db'}") as opened:
        yield opened


def _without_times(grade: dict[str, Any]) -> dict[str, Any]:
    """The grade minus what is measured each time (seconds spent grading and per test)."""
    kept = {k: v for k, v in grade.items() if k != "usage"}
    kept["run"] = {**grade["run"], "tests": [{**t, "seconds": 0} for t in grade["run"]["tests"]]}
    return kept


def test_the_app_and_the_cli_give_a_coding_answer_the_same_grade(
    bank: ContentBank, store: AttemptStore, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = EngineContext(get_settings(), bank, store)
    session, _ = InterviewSession.start_single(ctx, "coding-coin-change", grader="offline")
    session.say(GREEDY_COINS)
    in_app = next(e for e in session.submit() if isinstance(e, ev.Graded)).grade
    assert in_app.run is not None and 0 < in_app.run.passed < in_app.run.total

    args = ["grade", "--question", "coding-coin-change", "--grader", "offline", "--json"]
    assert main([*args, "--answer", GREEDY_COINS]) == 0
    on_cli = json.loads(capsys.readouterr().out)
    assert on_cli["score"] == in_app.score
    assert _without_times(on_cli) == _without_times(in_app.model_dump(mode="json"))
    stored = store.grade(store.attempts()[0].id)
    assert stored is not None and stored.run == in_app.run, "the stored grade carries the run"


def test_a_follow_up_regrade_reuses_the_first_run(bank: ContentBank, store: AttemptStore) -> None:
    ctx = EngineContext(get_settings(), bank, store)
    session, _ = InterviewSession.start_single(ctx, "coding-coin-change", grader="offline")
    session.say(GREEDY_COINS)
    events = session.submit()
    first = next(e for e in events if isinstance(e, ev.Graded)).grade
    assert any(isinstance(e, ev.FollowUpAsked) for e in events)
    # code in a follow-up answer is talk about the solution, not a new submission
    later = session.say(f"It is O(len(coins)) after sorting, and this would fail:\n{OTHER_CODE}")
    regraded = next(e for e in later if isinstance(e, ev.FollowUpGraded)).grade
    assert first.run is not None and regraded.run == first.run


class Broken:
    name = "broken"

    def grade(self, *args: object) -> Grade:
        raise RuntimeError("grader on fire")


def _broken_grader() -> Grader:
    raise RuntimeError("no API key")


@pytest.mark.parametrize(("grader", "message"), [(Broken, "on fire"), (_broken_grader, "API key")])
def test_the_answer_is_saved_before_the_grader_is_built_or_fails(
    bank: ContentBank, store: AttemptStore, grader: Any, message: str
) -> None:
    q = bank.question("dd-kv-cache")
    with pytest.raises(RuntimeError, match=message):
        single_attempt(store, q, bank.rubric(q.rubric), "my saved answer", grader=grader)
    [attempt] = store.attempts()
    assert attempt.answer == "my saved answer" and attempt.score is None
    assert store.sessions()[0].ended_at is not None


def test_single_attempt_records_the_grade_it_returns(
    bank: ContentBank, store: AttemptStore
) -> None:
    q = bank.question("dd-kv-cache")
    answer = "The KV cache keeps the keys and values of earlier tokens so they are not recomputed."
    offline = OfflineGrader(bank)
    grade = single_attempt(
        store, q, bank.rubric(q.rubric), answer, grader=lambda: offline, mode="drill"
    )
    [attempt] = store.attempts()
    assert grade.run is None, "not a coding question"
    assert attempt.score == grade.score and store.grade(attempt.id) == grade
    assert store.sessions()[0].mode == "drill"
