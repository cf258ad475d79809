"""A behavioral answer is scored as a story; a technical explanation is not one."""

from __future__ import annotations

import pytest

from bot.config import PROJECT_ROOT
from bot.content import load_bank
from bot.grading import OfflineGrader
from bot.grading.evals.ladder import reference_prose
from bot.grading.story import narrated_share, story_factor
from bot.text import split_units

BANK = load_bank(PROJECT_ROOT)
FAIR = OfflineGrader(BANK, detect_copies=False)  # grades reference texts as if written by hand
STORIES = sorted(q.id for q in BANK.questions.values() if q.kind == "behavioral")
# Technical texts that quote numbers and outcomes, or speak in the first person (present tense).
TECHNICAL = ["dd-quantization-int8-int4", "dd-py-asyncio-fanout", "sd-help-centre-answer-bot"]


def score(qid: str, text: str) -> float:
    question = BANK.question(qid)
    return FAIR.grade(question, BANK.rubric(question.rubric), text).score


def test_narration_is_first_person_past_tense() -> None:
    told = split_units("I delayed the launch by two weeks. We were paged at night and I owned it.")
    plans = split_units("I share one semaphore across the calls. We cap the batch at 32 requests.")
    code = split_units(
        "Let ok[i] mean the first i characters can be split. It is filled left to right."
    )
    assert narrated_share(told) == 1.0
    assert narrated_share(plans) == narrated_share(code) == 0.0
    assert story_factor(told) == 1.0 and story_factor(plans) == 0.0


@pytest.mark.parametrize("qid", STORIES)
def test_a_technical_explanation_is_not_a_story(qid: str) -> None:
    own = score(qid, reference_prose(BANK, BANK.question(qid)))
    assert own >= 70, own
    for other in TECHNICAL:
        assert other in BANK.questions, other
        text = reference_prose(BANK, BANK.question(other))
        graded = FAIR.grade(BANK.question(qid), BANK.rubric(BANK.question(qid).rubric), text)
        assert graded.score <= 15, (other, graded.score)
        assert any("not a story" in note for note in graded.notes), graded.notes


# Stories told live, in the present tense, to the questions they answer (written for this test).
PRESENT_TENSE = {
    "beh-disagreement": (
        "It is my second month on the search team and my tech lead wants to replace our BM25 "
        "ranking with a pure embedding index before the holiday release. I think it will hurt "
        "exact-match queries like part numbers, so I ask him for a week to test it. I pull 500 "
        "real queries from the logs and run both systems side by side with two teammates judging "
        "the results blind. The numbers show the embedding index loses badly on part numbers but "
        "wins on vague questions, so I propose a hybrid. He agrees once he sees the table, and the "
        "hybrid ships with a 12% lift in click-through. What I keep from it: disagree with data, "
        "and make the other person's idea part of the answer."
    ),
    "beh-mentoring": (
        "A new graduate joins my team and after a month she still has not merged a pull request, "
        "because she rewrites each one whenever a reviewer comments. I set up a weekly hour with "
        "her and we split her first feature into four small changes that each ship alone. I pair "
        "with her on the first review and show her how to answer a comment without starting over. "
        "Our manager gives her an on-call shadow shift at my request, so she sees how the system "
        "fails. Six weeks later she merges two changes a week and leads a design review herself. "
        "I learn to give smaller tasks early and to say out loud what good enough looks like."
    ),
}


@pytest.mark.parametrize("qid", sorted(PRESENT_TENSE))
def test_a_story_told_in_the_present_tense_is_a_story(qid: str) -> None:
    text = PRESENT_TENSE[qid]
    assert story_factor(split_units(text)) == 1.0
    graded = score(qid, text)
    assert graded >= 40, graded
    # Technical texts told in the first person present still do not pass as stories.
    design = split_units("I share one semaphore across the calls. I cap the batch at 32 requests.")
    assert story_factor(design) == 0.0


@pytest.mark.parametrize("frame", ["On my team we say that", "I learned that"])
def test_a_frame_put_before_every_sentence_of_an_explanation_is_not_a_story(frame: str) -> None:
    """Before the frame was taken off, this help-centre design framed "On my team we say that"
    scored 80 as a cost-reduction story."""
    design = reference_prose(BANK, BANK.question("sd-help-centre-answer-bot"))
    framed = " ".join(
        f"{frame} {u.text[0].lower()}{u.text[1:]}"
        for u in split_units(design)
        if len(u.text.split()) > 3
    )
    assert story_factor(split_units(framed)) == 0.0
    assert score("beh-cost-reduction", framed) <= 15


def test_a_present_tense_story_with_times_and_no_one_else_is_a_story() -> None:
    text = (
        "Our p95 latency doubles overnight after a release. I open the traces and I see the "
        "reranker taking 700 ms. I roll back the release within the hour and I write a "
        "regression test for the reranker's batch size. I add a latency gate to CI so a change "
        "like that cannot ship again. The p95 is back to 300 ms the same day, and I learn to "
        "gate releases on latency, not only on accuracy."
    )
    assert story_factor(split_units(text)) == 1.0
    assert score("beh-production-incident", text) >= 50
