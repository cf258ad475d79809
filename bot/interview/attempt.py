"""An attempt: one answer to one question, saved before anything can fail, then graded.

Every place that grades a candidate's answer goes through here: the interview engine (Submit and
follow-ups), `interview-bot practice`, and the screenshot tool's seeded history. The answer is
stored first, so a grader or sandbox failure never loses it; the grade comes from the one grading
path (bot/grading/coding.py: the hidden tests run for a coding question) and is recorded on the
attempt. Until then the attempt is SUBMITTED (a restart grades it), UNGRADED when grading failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.content import Question, Rubric
from bot.grading.coding import grade_answer
from bot.grading.grade import Grade, Grader
from bot.sandbox import RunReport
from bot.store import LOCAL_USER, SUBMITTED, UNGRADED, AttemptStore, Submission


@dataclass(frozen=True)
class Attempt:
    """A stored answer, by id, ready to have grades recorded on it."""

    store: AttemptStore
    id: str
    question: Question
    user_id: str = LOCAL_USER  # whose attempt: every store call is scoped to them

    @classmethod
    def save(
        cls,
        store: AttemptStore,
        *,
        session_id: str,
        question: Question,
        answer: str,
        round_name: str | None = None,
        hints_used: int = 0,
        duration_s: float | None = None,
        status: str = SUBMITTED,
        user_id: str = LOCAL_USER,
    ) -> Attempt:
        """Store the candidate's answer (ungraded) and return the attempt: the session's one
        attempt of the question, updated in place when it was submitted before."""
        submission = Submission(
            session_id, question.id, question.kind, question.competency, question.difficulty,
            answer, round_name, hints_used, duration_s, status, user_id,
        )  # fmt: skip
        return cls(store, store.submit_answer(submission), question, user_id)

    def grade(
        self,
        grader: Grader,
        rubric: Rubric,
        text: str,
        *,
        run: RunReport | None = None,
        hints_used: int = 0,
        adjust: Callable[[Grade], Grade] | None = None,
    ) -> Grade:
        """Grade `text` (the answer, or the answer with its follow-ups), record it, return it.

        `run` is the answer's hidden-test run when it was already made (see `grade_answer`);
        each hint taken costs the rubric's `hint_discount`.
        """
        try:
            grade = grade_answer(grader, self.question, rubric, text, run=run)
        except Exception:
            # saved; the candidate may submit it again
            self.store.set_status(self.id, UNGRADED, user_id=self.user_id)
            raise
        grade = grade.with_hints(rubric, hints_used)
        if adjust is not None:  # e.g. the credit for clarifying questions, before it is recorded
            grade = adjust(grade)
        self.store.record_grade(self.id, grade, user_id=self.user_id)
        return grade


def single_attempt(
    store: AttemptStore,
    question: Question,
    rubric: Rubric,
    answer: str,
    *,
    grader: Callable[[], Grader],
    mode: str = "single",
    duration_s: float | None = None,
    user_id: str = LOCAL_USER,
) -> Grade:
    """A one-question session: start it, save the answer, grade and record it, end it.

    `grader` is built only once the answer is saved (building it can fail, e.g. on a missing
    API key). When grading fails, the answer stays saved, ungraded, and the error propagates.
    """
    session_id = store.start_session(mode, user_id=user_id)
    try:
        attempt = Attempt.save(
            store,
            session_id=session_id,
            question=question,
            answer=answer,
            duration_s=duration_s,
            user_id=user_id,
        )
        try:
            chosen = grader()
        except Exception:
            store.set_status(attempt.id, UNGRADED, user_id=user_id)
            raise
        return attempt.grade(chosen, rubric, answer)
    finally:
        store.end_session(session_id, user_id=user_id)
