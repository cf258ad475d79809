"""The interviewer's voice with an LLM: follow-ups and clarifications worded by the real openai and
anthropic clients against a local fake server, and every fault falling back to the offline words."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import PROJECT_ROOT, Settings
from bot.content import ContentBank, load_bank
from bot.grading.grade import Grader
from bot.grading.offline import OfflineGrader
from bot.interview import EngineContext, InterviewSession, voice
from bot.interview import events as ev
from bot.interview.state import Current
from bot.store import AttemptStore
from bot.web import render
from tests.fakes.llm_server import (
    FakeLLMServer,
    Reply,
    anthropic_text,
    error_body,
    openai_completion,
)

# dd-kv-cache: the first key point in the candidate's own words, so follow-ups probe the rest
CACHED = (
    "While decoding, I keep every earlier token's keys and values for each layer and head, "
    "since they never change once computed."
)
GQA = "Grouped-query attention shares each key and value head across several query heads."
# a follow-up that gives away the memory-bound key point word for word
LEAKY = "So why does decoding become memory-bandwidth bound and the cache the limit?"


@pytest.fixture(scope="module")
def bank() -> ContentBank:
    return load_bank(PROJECT_ROOT)


@pytest.fixture(scope="module")
def offline(bank: ContentBank) -> Grader:
    return OfflineGrader(bank)


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


def context(
    server: FakeLLMServer,
    bank: ContentBank,
    offline: Grader,
    tmp_path: Path,
    **settings: Any,
) -> EngineContext:
    """Grades stay offline (so the LLM here only speaks); every LLM is the fake server."""
    chosen = Settings(
        data_dir=tmp_path,
        openai_api_key="sk-test",
        openai_base_url=server.url + "/v1",
        anthropic_api_key="sk-ant-test",
        anthropic_base_url=server.url,
        llm_max_retries=2,
        llm_timeout_s=5,
        **settings,
    )
    store = AttemptStore.open(f"sqlite:///{tmp_path / 'history.db'}")
    graders = {"auto": offline, "anthropic": offline}
    return EngineContext(chosen, bank, store, _graders=graders)


def of(events: list[ev.Event], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def current(session: InterviewSession) -> Current:
    assert session.state.current is not None
    return session.state.current


def test_an_llm_words_each_follow_up_in_reply_to_the_last_answer(
    server: FakeLLMServer, bank: ContentBank, offline: Grader, tmp_path: Path
) -> None:
    ctx = context(server, bank, offline, tmp_path)
    q = bank.question("dd-kv-cache")
    session, _ = InterviewSession.start_single(ctx, q.id)
    session.say(CACHED)
    first_words = "You keep every token's keys and values: how big does that get for a 7B model?"
    server.replies = [Reply(body=openai_completion(first_words))]
    asked = of(session.submit(), ev.FollowUpAsked)[0]
    assert (asked.prompt, asked.source, asked.note) == (first_words, "openai_compatible", "")
    ask = current(session).follow_ups[0]
    system, user = server.requests[0]["body"]["messages"]
    assert q.prompt in system["content"] and ask.prompt in system["content"]
    probed = [k.text for k in q.key_points if k.id in ask.probes]
    assert probed and all(text in system["content"] for text in probed)
    assert user == {"role": "user", "content": CACHED}

    second_words = "Right, and what does that sharing cost you in quality?"
    server.replies = [Reply(body=openai_completion(second_words))]
    out = session.say(GQA)
    assert of(out, ev.FollowUpGraded)
    assert of(out, ev.FollowUpAsked)[0].prompt == second_words
    assert server.requests[1]["body"]["messages"][1]["content"] == GQA  # the reply it follows
    attempt = ctx.store.attempts()[0]
    assert ctx.store.follow_ups(attempt.id)[0][0] == first_words  # stored as the candidate saw it

    again, events = InterviewSession.resume(ctx, session.id)
    assert of(events, ev.FollowUpAsked)[0].prompt == second_words
    assert len(server.requests) == 2, "a resume asks in the same words, without a new call"
    ctx.store.close()


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(500, error_body(500, "down")), voice.NOT_ANSWERED),
        (Reply(body="{not json"), voice.NOT_ANSWERED),
        (Reply(body=openai_completion("   ")), voice.EMPTY),
        (Reply(body=openai_completion("Good. Now think. Then answer. Why?")), voice.TOO_LONG),
        (Reply(body=openai_completion("Tell me more about the cache.")), voice.NOT_A_QUESTION),
        (Reply(body=openai_completion(LEAKY)), voice.LEAKED),
    ],
    ids=["http-500", "malformed-body", "empty", "too-long", "not-a-question", "leak"],
)
def test_a_fault_asks_the_offline_follow_up_and_says_why(
    server: FakeLLMServer,
    bank: ContentBank,
    offline: Grader,
    tmp_path: Path,
    reply: Reply,
    reason: str,
) -> None:
    ctx = context(server, bank, offline, tmp_path)
    session, _ = InterviewSession.start_single(ctx, "dd-kv-cache")
    session.say(CACHED)
    server.replies = [reply]
    asked = of(session.submit(), ev.FollowUpAsked)[0]
    ask = current(session).follow_ups[0]
    assert (asked.prompt, asked.source, asked.note) == (ask.prompt, "offline", reason)
    assert len(server.requests) == 1, "one try: no SDK retries while the candidate waits"
    assert f"offline wording: {reason}" in render.follow_up_line(asked)
    ctx.store.close()


def test_a_slow_llm_is_given_up_on_at_the_voice_timeout(
    server: FakeLLMServer, bank: ContentBank, offline: Grader, tmp_path: Path
) -> None:
    ctx = context(server, bank, offline, tmp_path, llm_voice_timeout_s=0.5)
    session, _ = InterviewSession.start_single(ctx, "dd-kv-cache")
    session.say(CACHED)
    server.replies = [Reply(body=openai_completion("Too late?"), delay=3.0)]
    began = time.perf_counter()
    asked = of(session.submit(), ev.FollowUpAsked)[0]
    assert time.perf_counter() - began < 2.5
    assert (asked.source, asked.note) == ("offline", voice.NOT_ANSWERED)
    assert asked.prompt == current(session).follow_ups[0].prompt
    ctx.store.close()


def test_with_the_voice_switched_off_no_llm_is_asked(
    server: FakeLLMServer, bank: ContentBank, offline: Grader, tmp_path: Path
) -> None:
    ctx = context(server, bank, offline, tmp_path, llm_voice=False)
    session, _ = InterviewSession.start_single(ctx, "sd-url-shortener")
    reply = of(session.say("How many links are created?"), ev.ClarificationGiven)[0]
    scale = bank.question("sd-url-shortener").clarifications[0]
    assert (reply.reply, reply.source, reply.note) == (scale.answer, "offline", "")
    assert render.short_markdown(reply) == f"**Interviewer:** {scale.answer}"
    assert server.requests == []
    ctx.store.close()


def test_a_clarification_is_worded_from_the_matched_fact_only(
    server: FakeLLMServer, bank: ContentBank, offline: Grader, tmp_path: Path
) -> None:
    ctx = context(server, bank, offline, tmp_path)
    q = bank.question("sd-url-shortener")
    session, _ = InterviewSession.start_single(ctx, q.id)
    words = "Plan for about 100 million new links a month, and spikes of 10x."
    server.replies = [
        Reply(body=openai_completion(words)),
        # the reference answer's estimate: a give-away, though every figure is in the fact
        Reply(body=openai_completion("100M links a month is about 10 writes a second.")),
        Reply(body=openai_completion("About 250 million links a month.")),  # not the fact's
    ]
    asked = "How many links are created?"
    reply = of(session.say(asked), ev.ClarificationGiven)[0]
    assert (reply.reply, reply.source) == (words, "openai_compatible")
    system = server.requests[0]["body"]["messages"][0]["content"]
    facts = [c.answer for c in q.clarifications]
    assert facts[0] in system and not any(fact in system for fact in facts[1:])
    assert current(session).clarified == [0]  # the fact the embeddings matched, as offline
    for reason in (voice.LEAKED, voice.INVENTED):
        fell = of(session.say(asked), ev.ClarificationGiven)[0]
        assert (fell.reply, fell.source, fell.note) == (facts[0], "offline", reason)
        assert render.short_markdown(fell).endswith(f"_(offline wording: {reason})_")
    ctx.store.close()


def test_the_anthropic_client_words_clarifications_and_falls_back_on_a_fault(
    server: FakeLLMServer, bank: ContentBank, offline: Grader, tmp_path: Path
) -> None:
    ctx = context(server, bank, offline, tmp_path)
    q = bank.question("sd-url-shortener")
    session, _ = InterviewSession.start_single(ctx, q.id, grader="anthropic")
    words = "Redirects need to come back in under 50 ms at p99, from the edge."
    server.replies = [Reply(body=anthropic_text(words)), Reply(500, error_body(500, "overloaded"))]
    asked = "What latency do redirects need?"
    reply = of(session.say(asked), ev.ClarificationGiven)[0]
    assert (reply.reply, reply.source) == (words, "anthropic")
    assert render.short_markdown(reply).endswith("_(via anthropic)_")
    request = server.requests[0]
    assert request["path"] == "/v1/messages" and "under 50 ms" in request["body"]["system"]
    assert request["body"]["messages"] == [{"role": "user", "content": asked}]
    fell = of(session.say(asked), ev.ClarificationGiven)[0]
    assert (fell.source, fell.note) == ("offline", voice.NOT_ANSWERED)
    assert fell.reply == next(c.answer for c in q.clarifications if "50 ms" in c.answer)
    assert len(server.requests) == 2  # the 500 was not retried
    ctx.store.close()


def test_the_anthropic_client_words_a_follow_up(
    server: FakeLLMServer, bank: ContentBank, offline: Grader, tmp_path: Path
) -> None:
    ctx = context(server, bank, offline, tmp_path)
    session, _ = InterviewSession.start_single(ctx, "dd-kv-cache", grader="anthropic")
    session.say(CACHED)
    words = "Given what you keep per token, how large is it for a 7B model at 4k tokens?"
    server.replies = [Reply(body=anthropic_text(words))]
    asked = of(session.submit(), ev.FollowUpAsked)[0]
    assert (asked.prompt, asked.source) == (words, "anthropic")
    assert server.requests[0]["body"]["messages"] == [{"role": "user", "content": CACHED}]
    ctx.store.close()


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Why is decoding memory-bandwidth BOUND and the cache, the limit?", "memory bandwidth"),
        ("Is it 2 x layers x kv_heads x head_dim?", "2 x layers x kv heads"),
        ("Why would decode be limited by bandwidth rather than compute?", None),
        ("What is the size in terms of layers, kv_heads and head_dim?", None),
    ],
)
def test_a_run_of_six_words_from_a_key_point_is_a_give_away(
    bank: ContentBank, text: str, found: str | None
) -> None:
    q = bank.question("dd-kv-cache")
    run = voice.shared_run(text, voice.secrets_of(bank, q), (q.prompt,))
    assert run is None if found is None else run is not None and run.startswith(found)


def test_words_the_candidate_has_seen_or_said_give_nothing_away() -> None:
    secret = ("the cache limits the batch size and the context length",)
    text = "You said the cache limits the batch size: by how much?"
    assert voice.shared_run(text, secret, ()) == "the cache limits the batch size"
    assert voice.shared_run(text, secret, ("I think the cache limits the batch size.",)) is None


def test_the_reference_answer_is_a_secret_too(bank: ContentBank) -> None:
    q = bank.question("sd-url-shortener")
    secret = voice.secrets_of(bank, q)
    copied = "Seven base62 characters give 62^7, about 3.5 trillion codes."
    assert voice.shared_run(copied, secret, (q.prompt,)) is not None
    assert voice.shared_run("How would you make codes hard to guess?", secret, ()) is None


@pytest.mark.parametrize(
    ("raw", "tidy"),
    [
        ('  "What limits the batch size?"  ', "What limits the batch size?"),
        ("**Interviewer:** What\nlimits it?", "What limits it?"),
        ("Follow-up question: `Why?`", "Why?"),
    ],
)
def test_a_reply_is_tidied_before_it_is_checked(raw: str, tidy: str) -> None:
    assert voice.tidy(raw) == tidy


def test_figures_must_come_from_the_fact() -> None:
    fact = "About 100 million new links a month, with spikes of 10x; 4,000 reads a second."
    assert voice.invented_figures("Around 100 million, peaking at 10x.", (fact,)) == set()
    assert voice.invented_figures("4000 reads a second, 3 regions.", (fact,)) == set()
    assert voice.invented_figures("About 1.5 billion a month.", (fact,)) == {"1.5"}
