"""Mock rounds that fill their minutes, scaled warnings, the hiring verdict, hint discounts."""

# ruff: noqa: F811 - the fixtures come from tests.test_session

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.content import ContentBank
from bot.errors import BotError
from bot.interview import EngineContext, InterviewSession
from bot.interview import events as ev
from bot.interview.choose import FILL, plan_round
from bot.interview.state import Result, RoundState, SessionState
from bot.interview.verdict import HIRE, LEAN_NO, NO_HIRE, STRONG_HIRE, band, mock_verdict
from tests.test_session import Clock, bank, clock, ctx, db_url, of  # noqa: F401 - fixtures


def test_every_plan_round_fills_most_of_its_minutes(bank: ContentBank) -> None:
    worst: dict[str, float] = {}
    for plan in bank.plans.values():
        for r in plan.rounds:
            state = RoundState(
                name=r.name,
                kind=r.kind,
                minutes=r.minutes,
                competencies=list(r.competencies),
                tag=r.tag,
                difficulty=r.difficulty,
            )
            for difficulty in range(1, 6):
                for seed in range(8):
                    picks = plan_round(bank, state, difficulty, set(), seed=str(seed))
                    minutes = sum(c.question.suggested_minutes for c in picks)
                    assert minutes <= r.minutes or len(picks) == 1, (plan.id, r.name)
                    key = f"{plan.id}/{r.name}"
                    worst[key] = min(worst.get(key, 1.0), minutes / r.minutes)
    assert min(worst.values()) >= FILL, worst


def test_a_deep_dive_round_asks_several_questions_until_its_time_is_up(
    ctx: EngineContext,
    clock: Clock,
) -> None:
    session, events = InterviewSession.start_mock(ctx, "genai-design", minutes=[5, 45, 25, 25])
    assert of(events, ev.QuestionAsked)[0].round_name == "ML coding"
    clock.advance(minutes=6)  # the 5-minute ML coding round runs out unanswered
    assert of(session.tick(), ev.RoundBreak)
    asked = [of(session.next_round(), ev.QuestionAsked)[0]]
    assert asked[0].round_name == "GenAI system design"
    session.say("I would start from the requirements and the main data flow.")
    clock.advance(minutes=40)
    events = session.submit()
    while session.state.current and session.state.current.phase == "follow_up":
        events = session.skip()
    assert of(events, ev.RoundBreak)
    resumed, again = InterviewSession.resume(ctx, session.id)  # the pause survives a restart
    assert of(again, ev.RoundBreak)[0].next_name == "Retrieval and adaptation"
    session = resumed
    asked.append(of(session.next_round(), ev.QuestionAsked)[0])
    assert asked[1].round_name == "Retrieval and adaptation"
    planned = session.state.rounds[2].planned
    assert len(planned) >= 2  # 25 minutes of 8-15 minute questions
    session.say("Chunk by structure and keep overlap small.")
    clock.advance(minutes=5)
    events = session.submit()
    while session.state.current and session.state.current.phase == "follow_up":
        events = session.skip()
    nxt = of(events, ev.QuestionAsked)[0]
    assert nxt.round_name == "Retrieval and adaptation" and nxt.question.id == planned[1]
    assert "question 2 of" in nxt.reason
    clock.advance(minutes=21)  # the round's 25 minutes are over while answering
    out = session.tick()
    assert of(out, ev.TimedOut) and of(out, ev.RoundBreak)
    third = of(session.next_round(), ev.QuestionAsked)[0]
    assert third.round_name == "Agents and production"
    session.say("Budgets per step and a hard stop after ten tool calls.")
    ended = of(session.end(), ev.SessionEnded)[0]
    assert "unfinished (answer saved, not graded)" in ended.report  # the partial answer
    assert "## Hiring verdict (target level: mid)" in ended.report
    verdict = mock_verdict(ctx.bank, session.state)
    assert verdict is not None and verdict.overall in (LEAN_NO, NO_HIRE)
    retrieval = verdict.rounds[2]
    assert retrieval.score is not None
    unreached_note = any("not reached" in why for why in retrieval.reasons)
    assert unreached_note == (len(planned) > 2)


def test_a_round_warning_is_scaled_to_a_shortened_round(
    ctx: EngineContext,
    clock: Clock,
) -> None:
    session, _ = InterviewSession.start_mock(ctx, "standard", minutes=[4, 40, 30])
    session.say("A hash map from value to index.")
    clock.advance(minutes=2, seconds=30)  # 1.5 of 4 minutes left: the plan's 5-minute warning
    assert session.tick() == []  # would fire at once; a quarter of the round is the most
    clock.advance(seconds=40)
    warned = of(session.tick(), ev.TimerWarning)
    assert warned and warned[0].minutes_left == 1


def _state(scores: list[list[float | None]], level: str = "mid") -> SessionState:
    rounds, results = [], []
    kinds = ["coding", "system_design", "llm_deep_dive"]
    for i, round_scores in enumerate(scores):
        name = f"R{i}"
        rounds.append(
            RoundState(name=name, kind=kinds[i % 3], minutes=30, reached=bool(round_scores))
        )
        for j, score in enumerate(round_scores):
            results.append(
                Result(
                    question_id=f"q{i}{j}",
                    round_name=name,
                    kind=kinds[i % 3],
                    competency="C1",
                    difficulty=3,
                    attempt_id=None,
                    score=score,
                )
            )
    return SessionState(mode="mock", rounds=rounds, results=results, level=level)  # type: ignore[arg-type]


def test_the_verdict_uses_the_target_levels_bar(bank: ContentBank) -> None:
    assert band(85, 70) == STRONG_HIRE and band(72, 70) == HIRE
    assert band(65, 70) == LEAN_NO and band(50, 70) == NO_HIRE
    scores = [[80.0], [78.0], [79.0]]
    junior = mock_verdict(bank, _state(scores, "junior"))
    staff = mock_verdict(bank, _state(scores, "staff"))
    assert junior is not None and staff is not None
    assert junior.overall == STRONG_HIRE and staff.overall in (LEAN_NO, NO_HIRE)
    assert all(r.bar > j.bar for r, j in zip(staff.rounds, junior.rounds, strict=True))


def test_one_bad_round_or_an_unreached_one_sinks_the_loop(bank: ContentBank) -> None:
    one_bad = mock_verdict(bank, _state([[95.0], [95.0], [30.0]]))
    assert one_bad is not None and one_bad.overall == LEAN_NO
    assert one_bad.rounds[2].verdict == NO_HIRE
    unreached = mock_verdict(bank, _state([[90.0], [90.0], []]))
    assert unreached is not None and unreached.rounds[2].score is None
    assert "Never reached" in unreached.rounds[2].reasons[0]
    assert unreached.overall != STRONG_HIRE
    skipped = mock_verdict(bank, _state([[90.0, None], [90.0], [90.0]]))
    assert skipped is not None and skipped.rounds[0].score == 45.0


def test_an_unknown_target_level_is_refused(ctx: EngineContext) -> None:
    with pytest.raises(BotError, match="target level"):
        InterviewSession.start_mock(ctx, "quick", level="principal")
    session, _ = InterviewSession.start_mock(ctx, "quick", level="senior")
    assert session.state.level == "senior"
    assert session.state.rounds[0].deadline() == session.state.rounds[0].started_at + timedelta(
        minutes=15
    )


def test_each_hint_taken_costs_the_rubrics_discount(ctx: EngineContext) -> None:
    answer = (
        "Keys and values of past tokens are cached per layer so each decoding step only "
        "projects the new token; the cache grows linearly with context and batch."
    )
    scores = []
    for hints in (0, 2):
        session, _ = InterviewSession.start_single(ctx, "dd-kv-cache")
        for _ in range(hints):
            session.hint()
        session.say(answer)
        graded = of(session.submit(), ev.Graded)[0].grade
        scores.append(graded)
    discount = ctx.bank.rubric("deep-dive").hint_discount
    assert discount > 0
    assert scores[1].score == max(0.0, round(scores[0].score - 2 * discount, 1))
    assert any("2 hint(s) taken" in note for note in scores[1].notes)
    assert not any("hint" in note for note in scores[0].notes)


def test_one_rounding_for_what_is_shown_and_what_decides(bank: ContentBank) -> None:
    from bot.grading.grade import whole
    from bot.interview.choose import next_drill_question
    from bot.interview.state import DrillSpec

    assert (whole(79.5), whole(78.5), whole(79.4)) == (80, 79, 79)
    last = bank.question("dd-kv-cache")
    stored = Result(
        question_id=last.id,
        round_name=None,
        kind=last.kind,
        competency=last.competency,
        difficulty=last.difficulty,
        attempt_id=None,
        score=79.5,
    )
    choice = next_drill_question(bank, DrillSpec(competency=last.competency), [stored], [])
    assert choice is not None
    assert choice.reason.startswith("You scored 80 (>= 80)")  # shown 80, moved up as an 80


def test_clarifying_questions_are_matched_to_the_right_fact_at_least_90_percent(
    bank: ContentBank,
) -> None:
    import yaml

    from bot.config import PROJECT_ROOT
    from bot.interview.clarify import best_fact

    rows = yaml.safe_load((PROJECT_ROOT / "bench/data/clarifying.yaml").read_text())
    right = sum(best_fact(bank.question(r["question"]), r["ask"]) == r["fact"] for r in rows)
    assert len(rows) >= 60 and right / len(rows) >= 0.9, f"{right}/{len(rows)}"


def test_good_clarifying_questions_are_credited_in_the_design_grade(ctx: EngineContext) -> None:
    answer = (
        "I would put a load balancer in front of stateless API servers, store the short code "
        "to URL mapping in a key-value store sharded by code, and cache hot redirects."
    )
    plain, _ = InterviewSession.start_single(ctx, "sd-url-shortener")
    plain.say(answer)
    before = of(plain.submit(), ev.Graded)[0].grade
    asked, _ = InterviewSession.start_single(ctx, "sd-url-shortener")
    for text in (
        "How many links get created per month?",
        "How many links are created each month?",  # the same fact again counts once
        "What latency do redirects need?",
        "Which colour is the logo?",  # no fact: no credit
    ):
        asked.say(text)
    assert asked.state.current is not None and len(asked.state.current.clarified) == 2
    asked.say(answer)
    graded = of(asked.submit(), ev.Graded)[0]
    after = graded.grade
    req = {c.id: c for c in after.criteria}["requirements"]
    assert req.level >= 3 and "You asked about 2 fact(s)" in req.feedback
    assert after.score > before.score
    assert any("credited under" in n for n in after.notes)
    stored = ctx.store.grade(graded.attempt_id)
    assert stored is not None and stored.score == after.score


def test_genai_drills_leave_classic_designs_out_unless_asked(bank: ContentBank) -> None:
    from bot.content.select import CLASSIC, practice_pool, select_questions

    classic = [q for q in bank.questions.values() if CLASSIC in q.tags]
    assert len(classic) >= 10 and {q.competency for q in classic} == {"C6"}
    c6 = practice_pool(bank.questions, competency="C6")
    assert c6 and not any(CLASSIC in q.tags for q in c6)
    listed = select_questions(bank.questions, competency="C6")  # `questions` lists them all
    assert {q.id for q in classic} <= {q.id for q in listed}
    asked = practice_pool(bank.questions, competency="C6", tag=CLASSIC)
    assert {q.id for q in asked} == {q.id for q in classic}
    any_design = practice_pool(bank.questions, kind="system_design")  # a round open to all
    assert {q.id for q in classic} <= {q.id for q in any_design}
