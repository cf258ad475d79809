"""The session engine: progression, spacing, timers, follow-ups, resume, and never losing text."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import PROJECT_ROOT, get_settings
from bot.content import ContentBank, Question, load_bank
from bot.grading.evals.evaluate import Grader
from bot.grading.grade import Grade
from bot.interview import EngineContext, InterviewSession, editor
from bot.interview import events as ev
from bot.interview.choose import next_drill_question
from bot.interview.clarify import NO_FACT
from bot.interview.followups import choose_follow_ups
from bot.interview.spacing import ReviewSchedule
from bot.interview.state import DrillSpec, Result
from bot.sandbox.code_input import extract_code, fenced_blocks
from bot.store import AttemptStore

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GRADERS: dict[str, Grader] = {}  # one offline grader (and its model) for the whole module


@pytest.fixture(scope="module")
def bank() -> ContentBank:
    return load_bank(PROJECT_ROOT)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'history.db'}"


@pytest.fixture
def ctx(bank: ContentBank, clock: Clock, db_url: str) -> Iterator[EngineContext]:
    store = AttemptStore.open(db_url, clock=clock)
    yield EngineContext(get_settings(), bank, store, clock=clock, _graders=GRADERS)
    store.close()


def of(events: list[ev.Event], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


# A candidate's own words for each key point of dd-kv-cache (the reference answer's own lines
# would be graded as a copy of the kb, which earns nothing).
KV_LINES = {
    "what-is-cached": "While decoding, I keep every earlier token's keys and values for each "
    "layer and head, since they never change once computed.",
    "compute-savings": "So a new step only projects the one new token and attends over the "
    "stored keys, which makes each step linear in the context instead of redoing the prefix.",
    "memory-formula": "Its size is two times layers times KV heads times head dim times bytes "
    "times tokens, about half a megabyte per token for a 7B model in fp16.",
    "memory-bound": "Decode ends up limited by memory bandwidth, and the cache rather than the "
    "weights caps how big the batch and the context can get.",
    "management": "Servers handle it with paged blocks like vLLM's PagedAttention, shared "
    "prefixes, grouped-query attention and fp8 caches.",
}


def own_words(question: Question, key_point: str) -> str:
    """A strong answer to one key point of dd-kv-cache, in a candidate's own words."""
    assert question.id == "dd-kv-cache", "own-words answers are written for dd-kv-cache"
    return KV_LINES[key_point]


def result(q: Question, score: float, missed: list[str] | None = None) -> Result:
    return Result(
        question_id=q.id,
        round_name=None,
        kind=q.kind,
        competency=q.competency,
        difficulty=q.difficulty,
        attempt_id=None,
        score=score,
        missed=missed or [],
    )


# --- progression rule ---------------------------------------------------------------------------


def test_a_high_score_moves_up_to_what_it_unlocks_or_a_harder_level(bank: ContentBank) -> None:
    last = bank.question("coding-pair-sum-indices")
    spec = DrillSpec(competency="C1")
    choice = next_drill_question(bank, spec, [result(last, 88)], [], seed="s")
    assert choice is not None
    unlocks = {q.id for q in bank.questions.values() if last.id in q.prerequisites}
    assert unlocks, "the fixture question unlocks others"
    assert choice.question.id in unlocks
    assert "unlocks" in choice.reason


def test_a_middle_score_stays_at_the_level_aimed_at_the_missed_points(bank: ContentBank) -> None:
    last = bank.question("dd-kv-cache")
    missed = [kp.id for kp in last.key_points[:2]]
    spec = DrillSpec(competency=last.competency)
    choice = next_drill_question(bank, spec, [result(last, 70, missed)], [], seed="s")
    assert choice is not None
    assert choice.question.difficulty == last.difficulty
    assert choice.question.id != last.id
    assert choice.reason.startswith("You scored 70 (60-79): same level, this one targets ")
    assert "what is cached" in choice.reason  # named by the missed key point it aims at


def test_a_low_score_goes_back_to_a_prerequisite(bank: ContentBank) -> None:
    last = bank.question("coding-group-anagrams")
    spec = DrillSpec(competency="C1")
    choice = next_drill_question(bank, spec, [result(last, 35)], [], seed="s")
    assert choice is not None
    assert choice.question.id in last.prerequisites
    below = next_drill_question(
        bank, spec, [result(bank.question("coding-pair-sum-indices"), 35)], [], seed="s"
    )
    assert below is not None and below.question.difficulty <= 1


def test_due_reviews_come_before_the_progression(
    bank: ContentBank, ctx: EngineContext, clock: Clock
) -> None:
    schedule = ReviewSchedule(ctx.store)
    weak = bank.question("dd-attention-vs-recurrence")
    grader = ctx.grader("offline")
    schedule.record(grader.grade(weak, bank.rubric(weak.rubric), "no idea"), clock())
    assert schedule.due(clock()) == []  # a lapse comes back after a learning step, not at once
    clock.advance(hours=1)
    due = schedule.due(clock())
    assert due and due[0].question_id == weak.id
    assert {d.key_point for d in due if d.key_point} <= set(weak.key_point_ids)
    last = bank.question("dd-kv-cache")
    spec = DrillSpec(competency="C3")
    choice = next_drill_question(bank, spec, [result(last, 95)], due, seed="s")
    assert choice is not None and choice.question.id == weak.id
    assert "due for review" in choice.reason


def test_spacing_gives_good_answers_longer_intervals(
    bank: ContentBank, ctx: EngineContext, clock: Clock
) -> None:
    q = bank.question("dd-kv-cache")
    rubric = bank.rubric(q.rubric)
    grader = ctx.grader("offline")
    strong = " ".join(own_words(q, kp) for kp in q.key_point_ids)
    schedule = ReviewSchedule(ctx.store)
    schedule.record(grader.grade(q, rubric, strong), clock())
    good_due = min(d.due for d in schedule.due(clock() + timedelta(days=3650)))
    other = bank.question("dd-attention-vs-recurrence")
    schedule.record(grader.grade(other, bank.rubric(other.rubric), "I am not sure."), clock())
    cards = ctx.store.review_cards()
    assert set(cards) >= {q.id, other.id}
    assert any(item.startswith(other.id + "#") for item in cards)  # missed key points carded
    bad_due = min(
        d.due for d in schedule.due(clock() + timedelta(days=3650)) if d.question_id == other.id
    )
    assert bad_due < good_due
    assert bad_due - clock() <= timedelta(minutes=10)


# --- mock rounds and the timer ------------------------------------------------------------------


def test_the_round_timer_warns_once_then_submits_at_time_out(
    ctx: EngineContext, clock: Clock
) -> None:
    session, events = InterviewSession.start_mock(ctx, "quick")
    first = of(events, ev.QuestionAsked)[0]
    assert first.round_name == "Coding warm-up" and first.deadline == START + timedelta(minutes=15)
    session.say("I would use a hash map from value to index and scan once.")
    clock.advance(minutes=10)
    assert session.tick() == []
    clock.advance(minutes=3, seconds=30)  # 1.5 min left; the quick plan warns at 2
    warned = session.tick()
    assert of(warned, ev.TimerWarning) and of(warned, ev.TimerWarning)[0].minutes_left == 2
    assert session.tick() == []  # only once
    clock.advance(minutes=2)
    out = session.tick()
    assert of(out, ev.TimedOut)
    graded = of(out, ev.Graded)[0]
    assert graded.timed_out
    assert not of(out, ev.FollowUpAsked)  # the round is over: no follow-ups
    pause = of(out, ev.RoundBreak)[0]  # a pause between rounds, as in a real loop
    assert pause.finished == "Coding warm-up" and pause.next_number == 2
    assert not of(out, ev.QuestionAsked) and session.tick() == []
    clock.advance(minutes=3)  # the break does not eat the next round's time
    nxt = of(session.next_round(), ev.QuestionAsked)[0]
    assert nxt.round_number == 2 and nxt.deadline == clock() + timedelta(minutes=10)
    stored = ctx.store.attempts()[0]
    assert stored.answer == "I would use a hash map from value to index and scan once."
    assert stored.round == "Coding warm-up" and stored.score is not None


def test_a_full_mock_interview_runs_every_round_and_reports(
    ctx: EngineContext, clock: Clock
) -> None:
    session, events = InterviewSession.start_mock(ctx, "standard", minutes=[20, 25, 15])
    kinds = []
    for _ in range(10):
        asked = of(events, ev.QuestionAsked)
        if not asked:
            break
        kinds.append(asked[0].question.kind)
        assert asked[0].deadline is not None
        session.say("My answer: I would clarify requirements, then outline a design.")
        clock.advance(minutes=5)
        events = session.submit()
        while session.state.current and session.state.current.phase == "follow_up":
            events = session.skip()
        if of(events, ev.RoundBreak):
            events = session.next_round()
    assert kinds == ["coding", "system_design", "llm_deep_dive"]
    [rounds_minutes] = [[r.minutes for r in session.state.rounds]]
    assert rounds_minutes == [20, 25, 15]
    ended = of(events, ev.SessionEnded)[0]
    for section in (
        "## Questions",
        "## By competency",
        "## Strengths",
        "## Gaps",
        "## Next drills",
    ):
        assert section in ended.report
    assert ctx.store.load_session(session.id).ended_at is not None
    assert len(ctx.store.attempts()) == 3


# --- inside a question ----------------------------------------------------------------------------


def test_clarifying_questions_are_answered_from_the_facts(ctx: EngineContext) -> None:
    session, _ = InterviewSession.start_single(ctx, "sd-url-shortener")
    q = ctx.bank.question("sd-url-shortener")
    reply = of(session.say("How many links get created per month?"), ev.ClarificationGiven)[0]
    assert reply.reply == next(c.answer for c in q.clarifications if c.topic == "scale")
    latency = of(session.say("What latency do redirects need?"), ev.ClarificationGiven)[0]
    assert "50 ms" in latency.reply
    unknown = of(session.say("Which colour is the logo?"), ev.ClarificationGiven)[0]
    assert unknown.reply == NO_FACT
    assert session.state.current is not None and session.state.current.draft == []
    noted = session.say("I would shard the code table by hash and cache hot redirects.")
    assert of(noted, ev.DraftNoted)[0].words > 5


def test_hints_climb_the_ladder_and_are_recorded(ctx: EngineContext) -> None:
    session, _ = InterviewSession.start_single(ctx, "dd-kv-cache")
    q = ctx.bank.question("dd-kv-cache")
    shown = [of(session.hint(), ev.HintShown)[0] for _ in q.hints]
    assert [h.text for h in shown] == list(q.hints)
    assert of(session.hint(), ev.Notice)  # past the top of the ladder
    session.say("Keys and values of past tokens are cached.")
    session.submit()
    assert ctx.store.attempts()[0].hints_used == len(q.hints)


def test_follow_ups_probe_missed_points_and_update_coverage(
    ctx: EngineContext, bank: ContentBank
) -> None:
    q = bank.question("dd-kv-cache")
    session, _ = InterviewSession.start_single(ctx, q.id)
    session.say(own_words(q, q.key_points[0].id))
    out = session.submit()
    graded = of(out, ev.Graded)[0]
    missed = {k.id for k in graded.grade.missed()}
    asked = of(out, ev.FollowUpAsked)[0]
    current = session.state.current
    assert current is not None and 1 <= len(current.follow_ups) <= 2
    assert all(set(f.probes) & missed for f in current.follow_ups)
    probe = current.follow_ups[0].probes[0]
    after = session.say(own_words(q, probe))
    update = of(after, ev.FollowUpGraded)[0]
    assert bank.question(q.id).key_points[[k.id for k in q.key_points].index(probe)].text in (
        update.newly_covered
    )
    assert update.grade.score > graded.grade.score
    attempt = ctx.store.attempts()[0]
    assert ctx.store.follow_ups(attempt.id)[0][0] == asked.prompt
    assert attempt.score == update.grade.score  # the stored grade includes the follow-up


def test_follow_ups_for_code_ask_about_the_candidates_own_solution(bank: ContentBank) -> None:
    q = bank.question("coding-pair-sum-indices")
    assert q.coding is not None
    answer = f"Hash map.\n```python\n{q.coding.reference_solution}\n```"
    grade = OFFLINE_GRADE(bank, q, answer)
    asks = choose_follow_ups(q, grade, answer)
    assert asks and q.coding.entry_point in asks[0].prompt and "your" in asks[0].prompt
    assert len(asks) <= 2


def OFFLINE_GRADE(bank: ContentBank, q: Question, answer: str) -> Grade:  # noqa: N802
    from bot.grading.offline import OfflineGrader

    grader = GRADERS.setdefault("offline", OfflineGrader(bank))
    return grader.grade(q, bank.rubric(q.rubric), answer)


# --- never losing text -----------------------------------------------------------------------


class Exploding:
    def grade(self, *args: object) -> Grade:
        raise RuntimeError("grader on fire")


def test_the_answer_is_saved_before_grading_and_a_failure_is_reported(
    bank: ContentBank, clock: Clock, db_url: str
) -> None:
    store = AttemptStore.open(db_url, clock=clock)
    ctx = EngineContext(get_settings(), bank, store, clock=clock, _graders={"auto": Exploding()})
    session, _ = InterviewSession.start_drill(ctx, "C2", questions=2)
    session.say("An answer that must survive a broken grader. \x00 ünïcödé " + "x" * 50_000)
    out = session.submit()
    assert "grader on fire" in of(out, ev.Notice)[0].text
    assert of(out, ev.QuestionAsked)  # the drill goes on
    [attempt] = store.attempts()
    assert attempt.answer.startswith("An answer that must survive")
    assert len(attempt.answer) > 50_000 and attempt.score is None
    store.close()


def test_skip_keeps_a_partial_answer_and_end_always_works(ctx: EngineContext) -> None:
    session, _ = InterviewSession.start_drill(ctx, "C4", questions=3)
    assert "Nothing to submit yet" in of(session.submit(), ev.Notice)[0].text
    assert ctx.store.attempts() == []
    session.say("Half an answer about chunk sizes.")
    out = session.skip()
    assert of(out, ev.Skipped)[0].saved and of(out, ev.QuestionAsked)
    assert ctx.store.attempts()[0].answer == "Half an answer about chunk sizes."
    assert ctx.store.attempts()[0].score is None
    ended = of(session.end(), ev.SessionEnded)[0]
    assert "skipped" in ended.report
    assert of(session.say("hello?"), ev.Notice)
    assert of(session.submit(), ev.Notice) and of(session.skip(), ev.Notice)


def test_a_session_resumes_after_a_restart_with_its_draft(
    bank: ContentBank, clock: Clock, db_url: str
) -> None:
    store = AttemptStore.open(db_url, clock=clock)
    ctx = EngineContext(get_settings(), bank, store, clock=clock, _graders=GRADERS)
    session, first = InterviewSession.start_drill(ctx, "C6", questions=2)
    asked = of(first, ev.QuestionAsked)[0]
    session.say("Continuous batching refills the batch every decoding step.")
    store.close()  # the server stops

    store2 = AttemptStore.open(db_url, clock=clock)
    ctx2 = EngineContext(get_settings(), bank, store2, clock=clock, _graders=GRADERS)
    assert InterviewSession.unfinished(store2) == [session.id]
    resumed, events = InterviewSession.resume(ctx2, session.id)
    again = of(events, ev.QuestionAsked)[0]
    assert again.resumed and again.question.id == asked.question.id
    assert "Continuous batching" in again.draft
    out = resumed.submit()
    assert of(out, ev.Graded)[0].question.id == asked.question.id
    assert (
        store2.attempts()[0].answer == "Continuous batching refills the batch every decoding step."
    )
    store2.close()


# --- coding rounds ------------------------------------------------------------------------------


def test_a_coding_answer_is_run_and_the_pass_rate_sets_correctness(ctx: EngineContext) -> None:
    q = ctx.bank.question("coding-pair-sum-indices")
    assert q.coding is not None
    right = f"One pass with a dict.\n```python\n{q.coding.reference_solution}\n```"
    wrong = f"```python\ndef {q.coding.entry_point}(nums, target):\n    return [0, 1]\n```"
    levels = {}
    for label, answer in (("right", right), ("wrong", wrong)):
        session, _ = InterviewSession.start_single(ctx, q.id)
        nothing = session.run_examples()  # no code in the draft yet
        assert (
            nothing is not None and nothing["total"] == 0 and "no Python code" in nothing["error"]
        )
        session.say(answer)
        if label == "right":
            ran = session.run_examples()
            assert ran is not None and ran["passed"] == ran["total"] == len(q.coding.examples)
        graded = of(session.submit(), ev.Graded)[0]
        assert graded.tests is not None
        bounds = sum(r["check"] is not None for r in graded.tests["results"])
        assert bounds == 1  # pair-sum's scaling check runs on Submit
        assert graded.tests["total"] == len(q.coding.tests) + bounds
        correctness = next(c for c in graded.grade.criteria if c.id == "correctness")
        levels[label] = (correctness.level, graded.tests["passed"] - bounds)
        assert any("hidden tests" in e for e in correctness.evidence)
        session.end()
    assert levels["right"] == (4, len(q.coding.tests))
    assert levels["wrong"][0] < 4 and levels["wrong"][1] < len(q.coding.tests)


def test_the_editors_code_joins_the_answer_last_and_replaces_itself(ctx: EngineContext) -> None:
    q = ctx.bank.question("coding-pair-sum-indices")
    assert q.coding is not None
    session, _ = InterviewSession.start_single(ctx, q.id)
    current = session.state.current
    assert current is not None
    assert session.write_code(editor.starter_code(q)) == [] and current.code == ""  # untouched
    session.say("I keep a dict from value to index and look up the complement.")
    session.write_code(f"def {q.coding.entry_point}(nums, target):\n    return [0, 1]\n")
    session.write_code(q.coding.reference_solution)  # a second Run replaces the first code
    blocks = fenced_blocks(current.answer)
    assert [b.code.strip() for b in blocks] == [q.coding.reference_solution.strip()]
    assert current.answer.startswith("I keep a dict")
    ran = session.run_examples()
    assert ran is not None and ran["passed"] == ran["total"] == len(q.coding.examples)
    graded = of(session.submit(), ev.Graded)[0]
    assert graded.tests is not None and graded.tests["passed"] == len(q.coding.tests) + 1  # + bound
    [attempt] = ctx.store.attempts()
    assert attempt.answer == current.answer  # what was graded is what was saved
    assert session.write_code("def too_late(): ...") == [] and "too_late" not in current.answer
    talk, _ = InterviewSession.start_single(ctx, "dd-kv-cache")
    assert "coding question" in of(talk.write_code("x = 1"), ev.Notice)[0].text


def test_the_editors_code_survives_a_restart(bank: ContentBank, clock: Clock, db_url: str) -> None:
    store = AttemptStore.open(db_url, clock=clock)
    ctx = EngineContext(get_settings(), bank, store, clock=clock, _graders=GRADERS)
    session, _ = InterviewSession.start_single(ctx, "coding-pair-sum-indices")
    session.write_code("def pair_sum_indices(nums, target):\n    seen = {}\n")
    store.close()
    store2 = AttemptStore.open(db_url, clock=clock)
    ctx2 = EngineContext(get_settings(), bank, store2, clock=clock, _graders=GRADERS)
    resumed, events = InterviewSession.resume(ctx2, session.id)
    assert resumed.state.current is not None and "seen = {}" in resumed.state.current.code
    assert "seen = {}" in of(events, ev.QuestionAsked)[0].draft
    store2.close()


@pytest.mark.parametrize(
    ("code", "fence"),
    [
        ("def f():\n    return 1\n", "```"),
        ('def f():\n    return """```python\nx\n```"""\n', "````"),
        ("s = '`````'\n", "``````"),
    ],
)
def test_fenced_code_comes_back_exactly(code: str, fence: str) -> None:
    text = "My approach first.\n\n" + editor.fenced(code)
    assert text.splitlines()[2] == f"{fence}python"
    assert extract_code(text) == code


def test_the_starter_code_is_the_signature_ready_for_a_body(bank: ContentBank) -> None:
    function = bank.question("coding-pair-sum-indices")
    assert function.coding is not None
    assert editor.starter_code(function) == function.coding.signature + "\n" + editor.INDENT
    cls = bank.question("coding-lfu-cache")
    assert cls.coding is not None and cls.coding.style == "class"
    assert editor.starter_code(cls) == cls.coding.signature.rstrip() + "\n"
    assert editor.starter_code(bank.question("dd-kv-cache")) == ""
    assert editor.written_code(function, "  " + editor.starter_code(function) + "\n\n") == ""


def test_an_llm_phrases_clarifications_from_the_facts_and_falls_back_offline(
    bank: ContentBank, clock: Clock, db_url: str, tmp_path: Path
) -> None:
    from bot.config import Settings
    from tests.fakes.llm_server import FakeLLMServer, Reply, error_body, openai_completion

    q = bank.question("sd-url-shortener")
    scale = next(c.answer for c in q.clarifications if c.topic == "scale")
    with FakeLLMServer() as server:
        settings = Settings(
            data_dir=tmp_path,
            openai_api_key="sk-test",
            openai_base_url=server.url + "/v1",
            llm_max_retries=0,
            llm_timeout_s=5,
        )
        store = AttemptStore.open(db_url, clock=clock)
        ctx = EngineContext(settings, bank, store, clock=clock, _graders=GRADERS)
        session, _ = InterviewSession.start_single(ctx, q.id, grader="auto")
        server.replies = [
            Reply(body=openai_completion("Roughly 100 million new links a month.")),
            Reply(500, error_body(500, "down")),
        ]
        first = of(session.say("How many links are created?"), ev.ClarificationGiven)[0]
        assert first.reply == "Roughly 100 million new links a month."
        assert first.source == "openai_compatible"
        sent = server.requests[0]["body"]["messages"]
        assert scale in sent[0]["content"] and sent[1]["content"] == "How many links are created?"
        second = of(session.say("How many links are created?"), ev.ClarificationGiven)[0]
        assert second.reply == scale and second.source == "offline"
        store.close()


def llm_grade_output(
    bank: ContentBank, q: Question, level: int, quote: str | None = None
) -> dict[str, Any]:
    """What an LLM grader returns for `q`: every criterion at `level` (backed by `quote`, a
    passage of the answer), every key point missed."""
    return {
        "reasoning": "-",
        "key_points": [{"id": k.id, "status": "missed", "evidence": None} for k in q.key_points],
        "criteria": [
            {"id": c.id, "level": level, "evidence": [quote] if quote else [], "feedback": "-"}
            for c in bank.rubric(q.rubric).criteria
        ],
        "strengths": [],
        "improvements": [],
        "follow_up": None,
    }


def test_one_llm_client_serves_the_clarifications_and_the_grades(
    bank: ContentBank, clock: Clock, db_url: str, tmp_path: Path
) -> None:
    import json

    from bot.config import Settings
    from bot.providers import Completion, JsonSchema, Message, Provider, make_provider
    from tests.fakes.llm_server import FakeLLMServer, Reply, openai_completion

    class Counted:
        """The real provider, counting the calls that go through this one object."""

        def __init__(self, inner: Provider) -> None:
            self.inner, self.name, self.model, self.calls = inner, inner.name, inner.model, 0

        def complete(
            self,
            messages: Sequence[Message],
            *,
            json_schema: JsonSchema | None = None,
            timeout_s: float | None = None,
        ) -> Completion:
            self.calls += 1
            return self.inner.complete(messages, json_schema=json_schema, timeout_s=timeout_s)

    q = bank.question("sd-url-shortener")
    with FakeLLMServer() as server:
        settings = Settings(
            data_dir=tmp_path,
            openai_api_key="sk-test",
            openai_base_url=server.url + "/v1",
            llm_max_retries=0,
            llm_timeout_s=5,
        )
        store = AttemptStore.open(db_url, clock=clock)
        shared = Counted(make_provider(settings, "openai_compatible"))
        ctx = EngineContext(
            settings, bank, store, clock=clock, _providers={"openai_compatible": shared}
        )
        session, _ = InterviewSession.start_single(ctx, q.id, grader="auto")
        server.replies = [
            Reply(body=openai_completion("About 100 million a month.")),
            Reply(body=openai_completion("Roughly 10 billion redirects a month.")),
            Reply(body=openai_completion(json.dumps(llm_grade_output(bank, q, 2, "base62")))),
        ]
        for asked in ("How many links are created?", "How many links are followed?"):
            reply = of(session.say(asked), ev.ClarificationGiven)[0]
            assert reply.source == "openai_compatible"
        session.say("A hash of the URL in base62 keyed in a replicated store, cached at the edge.")
        graded = of(session.submit(), ev.Graded)[0]
        assert graded.grade.grader.name == "openai_compatible" and graded.grade.score == 50.0
        assert shared.calls == len(server.requests) == 3, "every call through the one provider"
        assert ctx.provider("openai_compatible") is shared
        assert getattr(ctx.grader("auto"), "provider", None) is shared
        store.close()


def test_a_drill_with_an_unknown_tag_says_which_tags_exist(ctx: EngineContext) -> None:
    from bot.errors import BotError

    with pytest.raises(BotError, match="no C4 question has the tag 'quantum'; its tags: .*rag"):
        InterviewSession.start_drill(ctx, "C4", tag="quantum")
    session, events = InterviewSession.start_drill(ctx, "c4", tag="rag")
    assert "rag" in of(events, ev.QuestionAsked)[0].question.tags


def test_an_answer_not_in_english_is_told_so_before_its_grade(ctx: EngineContext) -> None:
    session, _ = InterviewSession.start_single(ctx, "dd-kv-cache")
    session.say(
        "Le cache KV garde les clés et les valeurs des tokens précédents pour chaque couche, "
        "donc on ne les recalcule pas à chaque étape."
    )
    out = session.submit()
    notices = [i for i, e in enumerate(out) if isinstance(e, ev.Notice)]
    graded = [i for i, e in enumerate(out) if isinstance(e, ev.Graded)]
    assert notices and graded and notices[0] < graded[0]
    assert "reads as French" in out[notices[0]].text and "graded in English" in out[notices[0]].text
    english, _ = InterviewSession.start_single(ctx, "dd-kv-cache")
    english.say(KV_LINES["what-is-cached"])
    assert not of(english.submit(), ev.Notice)


def test_no_follow_up_after_an_answer_with_nothing_to_build_on(ctx: EngineContext) -> None:
    for answer in (
        "My weekend was spent repotting tomato plants and brewing coffee with a moka pot.",
        "\n".join(f"- {kp.text}" for kp in ctx.bank.question("dd-kv-cache").key_points),
    ):
        session, _ = InterviewSession.start_single(ctx, "dd-kv-cache")
        session.say(answer)
        out = session.submit()
        assert of(out, ev.Graded) and not of(out, ev.FollowUpAsked), answer


def test_an_answer_past_the_cap_is_cut_saved_and_the_candidate_told(ctx: EngineContext) -> None:
    from bot.text import ANSWER_CUT, MAX_ANSWER_BYTES

    session, _ = InterviewSession.start_single(ctx, "dd-kv-cache", grader="offline")
    first = session.say("word " * (MAX_ANSWER_BYTES // 10))
    assert not any(isinstance(e, ev.Notice) for e in first)
    events = session.say("é" * MAX_ANSWER_BYTES)  # two bytes each: the rest of the room and more
    assert ev.Notice(ANSWER_CUT) in events
    assert session.say("more") == [ev.DraftNoted(len(session.state.current.answer.split())),
                                   ev.Notice(ANSWER_CUT)]  # fmt: skip
    session.submit()
    [attempt] = ctx.store.attempts()
    assert MAX_ANSWER_BYTES - 4 < len(attempt.answer.encode()) <= MAX_ANSWER_BYTES
    assert attempt.answer.endswith("é") and attempt.score is not None
