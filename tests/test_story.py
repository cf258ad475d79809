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
