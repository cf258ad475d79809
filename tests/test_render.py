"""Chat Markdown: feedback tables, question cards, streaming pieces."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import PROJECT_ROOT
from bot.content import load_bank
from bot.grading.grade import CriterionScore, Grade, GraderInfo, KeyPointResult
from bot.grading.report import grade_markdown
from bot.interview.events import QuestionAsked
from bot.store import AttemptRecord
from bot.web.render import (
    chunks,
    example_lines,
    question_markdown,
    recent_attempts_markdown,
    reflow,
)


def _criterion(cid: str, evidence: list[str]) -> CriterionScore:
    return CriterionScore(
        id=cid, name=cid.title(), weight=1, level=3, label="strong", score=75, evidence=evidence
    )


def test_the_feedback_table_does_not_repeat_one_quote_on_every_row() -> None:
    grade = Grade(
        question_id="q",
        rubric_id="r",
        rubric_version=1,
        score=75,
        passed=True,
        criteria=[
            _criterion("accuracy", ["Best | sentence.", "Second sentence."]),
            _criterion("depth", ["Best | sentence.", "Second sentence."]),
            _criterion("tradeoffs", ["Best | sentence."]),
            _criterion("clarity", []),
        ],
        key_points=[
            KeyPointResult(
                id="k", text="A point.", weight=1, status="covered", confidence=0.9, evidence="x"
            )
        ],
        grader=GraderInfo(name="offline", model="m", version="v"),
    )
    rows = [line for line in grade_markdown(grade).splitlines() if line.startswith("| ")][1:]
    assert rows == [
        "| Accuracy | 3/4 strong | “Best \\| sentence.” |",
        "| Depth | 3/4 strong | “Second sentence.” |",
        "| Tradeoffs | 3/4 strong | (same evidence as above) |",
        "| Clarity | 3/4 strong | — |",
    ]


def test_a_coding_question_card_shows_signature_and_examples() -> None:
    bank = load_bank(PROJECT_ROOT)
    q = bank.question("coding-pair-sum-indices")
    assert q.coding is not None
    deadline = datetime(2026, 1, 1, tzinfo=UTC)
    text = question_markdown(
        QuestionAsked(q, "why", 1, "Coding", 1, 3, deadline, resumed=True, draft="so far")
    )
    assert text.startswith(f"## {q.title}") and "Round 1/3: Coding" in text
    assert q.coding.signature in text
    first = q.coding.examples[0]
    assert f"→ `{first.expected!r}`" in text
    assert "_Resumed where you left off._" in text and "> so far" in text


def test_streaming_pieces_reassemble_exactly() -> None:
    text = "word " * 50 + "a-very-long-token-" * 10 + "\nend"
    pieces = chunks(text, size=20)
    assert "".join(pieces) == text
    assert all(len(p) <= 20 for p in pieces) and len(pieces) > 10


def test_latest_attempts_mark_a_retry_made_after_the_feedback() -> None:
    def attempt(minute: int, score: float | None, seen: bool) -> AttemptRecord:
        at = datetime(2026, 1, 5, 10, minute, tzinfo=UTC)
        return AttemptRecord(
            id=f"a{minute}", session_id="s", user_id="local", mode="drill",
            question_id="dd-kv-cache", kind="llm_deep_dive", competency="C6", difficulty=3,
            round=None, answer="...", created_at=at, submitted_at=at, graded_at=None,
            hints_used=0, duration_s=None, score=score, grade=None, grader=None,
            grader_model=None, grader_version=None, rubric_id=None, rubric_version=None,
            seen_key_points=seen,
        )  # fmt: skip

    table = recent_attempts_markdown([attempt(1, 40, False), attempt(2, 85, True)], limit=2)
    rows = [line for line in table.splitlines() if "dd-kv-cache" in line]
    assert rows == [
        "| 2026-01-05 10:02 | dd-kv-cache | 85 | _retry after feedback_ |",
        "| 2026-01-05 10:01 | dd-kv-cache | 40 |  |",
    ]
    assert recent_attempts_markdown([attempt(1, None, False)], limit=1).endswith("| — |  |")
    assert recent_attempts_markdown([]) == ""


def test_an_offline_grade_says_what_it_checked_and_what_an_llm_grader_adds() -> None:
    from bot.grading.report import OFFLINE_SCOPE, grade_markdown, render_grade
    from tests.test_screen import BANK, GOOD, GRADER, KV

    graded = GRADER.grade(KV, BANK.rubric(KV.rubric), GOOD)
    assert OFFLINE_SCOPE in grade_markdown(graded) and OFFLINE_SCOPE in render_grade(graded)
    assert "does not judge whether the reasoning is right" in OFFLINE_SCOPE
    llm = graded.model_copy(update={"grader": graded.grader.model_copy(update={"name": "openai"})})
    assert OFFLINE_SCOPE not in grade_markdown(llm)


def test_hand_wrapped_prose_flows_and_blocks_keep_their_lines() -> None:
    text = (
        "Return the indices `[i, j]` (with\n`i < j`) of the pair.\nSecond sentence.\n\n"
        "- a list item\n  continued\n- another item\n\n"
        "| a | b |\n|---|---|\n\n"
        "```python\ndef f():\n    return 1\n```\nAfter the code\nit flows."
    )
    assert reflow(text).splitlines() == [
        "Return the indices `[i, j]` (with `i < j`) of the pair. Second sentence.",
        "",
        "- a list item continued",
        "- another item",
        "",
        "| a | b |",
        "|---|---|",
        "",
        "```python",
        "def f():",
        "    return 1",
        "```",
        "After the code it flows.",
    ]


def test_example_lines_name_the_call_and_the_expected_value() -> None:
    bank = load_bank(PROJECT_ROOT)
    q = bank.question("coding-pair-sum-indices")
    assert q.coding is not None
    first = q.coding.examples[0]
    assert (
        example_lines(q)[0]
        == f"pair_sum_indices({', '.join(map(repr, first.args or []))}) → {first.expected!r}"
    )
    assert example_lines(bank.question("dd-kv-cache")) == []
