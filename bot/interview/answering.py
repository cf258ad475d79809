"""Saving and grading answers: the attempt stored before anything can fail, the hidden tests of a
coding answer run once per answer, the grade (with the hint discount and the credit for clarifying
questions), follow-up replies re-graded with the answer, and feedback for an answer graded at a
restart. `bot.interview.engine` builds the candidate's actions on these.
"""

from __future__ import annotations

import hashlib
import json

from bot.content import Question
from bot.grading import coding
from bot.grading.grade import Grade
from bot.interview import clarify, voice
from bot.interview.attempt import Attempt
from bot.interview.events import Event, FollowUpAsked, FollowUpGraded, Graded
from bot.interview.flow import SessionFlow
from bot.interview.state import Current
from bot.sandbox import RunReport
from bot.store import SUBMITTED


class AnswerFlow(SessionFlow):
    def _save_answer(self, current: Current, question: Question, *, status: str) -> str:
        return Attempt.save(
            self.ctx.store,
            session_id=self.id,
            question=question,
            answer=current.answer,
            round_name=self._round_name(current),
            hints_used=current.hints_used,
            duration_s=self._elapsed(current),
            status=status,
            user_id=self.ctx.user_id,
        ).id

    def _submission(self, current: Current, question: Question) -> None:
        """The answer stored as the session's attempt of the question, waiting for its grade."""
        current.attempt_id = self._save_answer(current, question, status=SUBMITTED)
        self._save()

    def _grade(self, current: Current, question: Question, text: str, timed_out: bool) -> Graded:
        """Grade `text` on the saved attempt; a coding answer's code runs once per question."""
        assert current.attempt_id is not None
        run = self._hidden_run(current, question)
        attempt = Attempt(self.ctx.store, current.attempt_id, question, self.ctx.user_id)
        rubric = self.ctx.bank.rubric(question.rubric)
        grader = self.ctx.grader(self.state.grader)
        facts = current.clarified

        def credit(grade: Grade) -> Grade:
            return clarify.credit_clarifying(grade, rubric, question, facts)

        grade = attempt.grade(
            grader, rubric, text, run=run, hints_used=current.hints_used, adjust=credit
        )
        tests = run.to_dict() if run is not None else None
        elapsed, hints = self._elapsed(current), current.hints_used
        return Graded(grade, question, attempt.id, elapsed, hints, timed_out, tests)

    def _hidden_run(self, current: Current, question: Question) -> RunReport | None:
        """The hidden tests on the answer's code, kept in the state for re-grades and resumes."""
        if question.coding is None:
            return None
        ran_on = hashlib.sha256(current.answer.encode("utf-8", "surrogatepass")).hexdigest()
        if current.tests_json is None or current.tests_for != ran_on:
            current.tests_json = json.dumps(coding.run_hidden(question, current.answer).to_dict())
            current.tests_for = ran_on
        return RunReport.from_dict(json.loads(current.tests_json))

    def _asked(self, current: Current) -> Question:
        return self.ctx.bank.question(current.question_id)

    def _graded_on_restart(self, current: Current) -> list[Event]:
        """The feedback of an answer graded at a restart, then on to the next question."""
        question, grade = self._asked(current), self._grade_of(current)
        assert current.attempt_id is not None and grade is not None
        tests = json.loads(current.tests_json) if current.tests_json else None
        elapsed, hints = self._elapsed(current), current.hints_used
        graded = Graded(grade, question, current.attempt_id, elapsed, hints, False, tests)
        return [graded, *self._finish(current, question, grade=grade)]

    def _answer_follow_up(self, current: Current, question: Question, text: str) -> list[Event]:
        ask = current.follow_ups[current.follow_up_index]
        assert current.attempt_id is not None
        self._still_held()
        self.ctx.store.save_follow_up(current.attempt_id, ask.shown, text, user_id=self.ctx.user_id)
        current.follow_up_answers.append(text)
        current.follow_up_index += 1
        self._save()
        before = self._grade_of(current)
        combined = "\n\n".join([current.answer, *current.follow_up_answers])
        graded = self._grade(current, question, combined, False)
        was = {k.id for k in before.key_points if k.covered} if before else set()
        now = {k.id for k in graded.grade.key_points if k.covered}
        probes = [p for a in current.follow_ups for p in a.probes]
        texts = {k.id: k.text for k in question.key_points}
        events: list[Event] = [
            FollowUpGraded(
                graded.grade,
                [texts[p] for p in probes if p in now - was],
                [texts[p] for p in dict.fromkeys(probes) if p not in now],
            )
        ]
        if current.follow_up_index < len(current.follow_ups):
            return [*events, self._follow_up_asked(current)]
        return events + self._finish(current, question, grade=graded.grade)

    def _follow_up_asked(self, current: Current) -> FollowUpAsked:
        """The follow-up due now, worded once (by the LLM when the session grades with one, in
        reply to the candidate's last words) and asked again in the same words on a resume."""
        ask = current.follow_ups[current.follow_up_index]
        if ask.said is None:
            request = voice.follow_up_request(
                self.ctx.bank,
                self._asked(current),
                offline=ask.prompt,
                probes=ask.probes,
                said=[current.answer, *current.follow_up_answers],
            )
            words = voice.spoken(self.ctx, self.state.grader, request)
            ask.said, ask.voice, ask.note = words.text, words.source, words.note
            self._save()
        n, total = current.follow_up_index + 1, len(current.follow_ups)
        return FollowUpAsked(ask.shown, n, total, ask.voice, ask.note)
