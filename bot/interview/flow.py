"""How a session moves on: asking a question, closing it, choosing the next one, ending.

In a mock interview the next question comes from the current round of the plan; in a drill,
from the competency's pool with due reviews first; a single question ends the session once
answered. Every step saves the session's state to the store.
"""

from __future__ import annotations

import json

from bot.content import Question
from bot.grading.grade import Grade
from bot.interview.choose import Choice, next_drill_question, plan_round
from bot.interview.context import EngineContext
from bot.interview.events import Event, Notice, QuestionAsked, RoundBreak, SessionEnded
from bot.interview.report import session_report
from bot.interview.state import Current, Result, RoundState, SessionState


class SessionFlow:
    """The question-to-question flow that `InterviewSession` builds its actions on."""

    def __init__(self, ctx: EngineContext, session_id: str, state: SessionState) -> None:
        self.ctx = ctx
        self.id = session_id
        self.state = state
        self.holder: str | None = None  # the chat driving it (see `hold`); None: no check

    def hold(self, holder: str) -> None:
        """Drive this session from `holder` (a browser tab's chat) only: a copy of it held by
        another chat gets SessionMovedError at its next step instead of saving over this one."""
        self.ctx.store.hold_session(self.id, holder, user_id=self.ctx.user_id)
        self.holder = holder

    def _grade_of(self, current: Current) -> Grade | None:
        return (
            None
            if current.attempt_id is None
            else self.ctx.store.grade(current.attempt_id, user_id=self.ctx.user_id)
        )

    def _finish(
        self,
        current: Current,
        question: Question,
        *,
        grade: Grade | None = None,
        graded: bool = True,
        timed_out: bool = False,
        advance: bool = True,
        unfinished: bool = False,
    ) -> list[Event]:
        """Close the current question, remember its result, schedule reviews, go on.

        Without `grade`, the attempt's stored grade is used, unless `graded` is False (skipped,
        or grading failed).
        """
        if grade is None and graded:
            grade = self._grade_of(current)
        if grade is not None:
            self.ctx.schedule.record(grade, self.ctx.clock())
        self.state.results.append(
            Result(
                question_id=question.id,
                round_name=self._round_name(current),
                kind=question.kind,
                competency=question.competency,
                difficulty=question.difficulty,
                attempt_id=current.attempt_id,
                score=grade.score if grade else None,
                missed=[k.id for k in grade.missed()] if grade else [],
                covered=[k.id for k in grade.key_points if k.covered] if grade else [],
                hints_used=current.hints_used,
                seconds=self._elapsed(current),
                timed_out=timed_out,
                unfinished=unfinished,
                tests=_tests(current),
            )
        )
        self.state.current = None
        self._save()
        return self._advance() if advance else []

    def _advance(self) -> list[Event]:
        pause = self._round_break()
        if pause is not None:
            return [pause]
        choice = self._next_choice()
        if choice is None:
            return self._close()
        return [self._ask(choice)]

    def _next_choice(self) -> Choice | None:
        st = self.state
        if st.max_questions is not None and len(st.results) >= st.max_questions:
            return None
        seen = self.ctx.seen_before()
        if st.mode == "mock":
            return self._next_in_rounds(seen)
        if st.mode == "drill" and st.drill is not None:
            due = self.ctx.schedule.due(self.ctx.clock())
            return next_drill_question(
                self.ctx.bank, st.drill, st.results, due, seen_before=seen, seed=self.id
            )
        return None

    def _round_break(self) -> RoundBreak | None:
        """When the round just played is over and another follows: pause before it, as a
        real loop does, so the next round's clock starts when the candidate says so."""
        st = self.state
        if st.mode != "mock" or st.round_index + 1 >= len(st.rounds):
            return None
        round_ = st.rounds[st.round_index]
        if not round_.reached or self._round_continues(round_):
            return None
        st.round_index += 1
        st.on_break = True
        self._save()
        return self.break_event(round_.name)

    def break_event(self, finished: str) -> RoundBreak:
        st = self.state
        nxt = st.rounds[st.round_index]
        return RoundBreak(finished, nxt.name, st.round_index + 1, len(st.rounds), nxt.minutes)

    def next_round(self) -> list[Event]:
        """The candidate is ready: open the next round."""
        if not self.state.on_break:
            return [Notice("No round is waiting to start.")]
        self.state.on_break = False
        return self._advance()

    def _round_continues(self, round_: RoundState) -> bool:
        done = {r.question_id for r in self.state.results}
        deadline = round_.deadline()
        left = [q for q in round_.planned if q not in done]
        return bool(left) and (deadline is None or self.ctx.clock() < deadline)

    def _next_in_rounds(self, seen: set[str]) -> Choice | None:
        """The round's next planned question while its time lasts, else the next round's first."""
        st, now = self.state, self.ctx.clock()
        done = {r.question_id for r in st.results}
        while st.round_index < len(st.rounds):
            round_ = st.rounds[st.round_index]
            if not round_.reached:
                round_.reached, round_.started_at = True, now
                picks = plan_round(
                    self.ctx.bank, round_, st.difficulty, st.asked, seen_before=seen, seed=self.id
                )
                round_.planned = [c.question.id for c in picks]
            left = [q for q in round_.planned if q not in done]
            if self._round_continues(round_):
                number = round_.planned.index(left[0]) + 1
                question = self.ctx.bank.question(left[0])
                reason = f"{round_.name} round, difficulty {question.difficulty}"
                if len(round_.planned) > 1:
                    reason += f", question {number} of {len(round_.planned)}"
                return Choice(question, reason)
            st.round_index += 1
        return None

    def _ask(self, choice: Choice) -> QuestionAsked:
        round_index = self.state.round_index if self.state.mode == "mock" else None
        current = Current(
            question_id=choice.question.id,
            reason=choice.reason,
            round_index=round_index,
            started_at=self.ctx.clock(),
        )
        self.state.current = current
        self._save()
        return self._asked_event(current)

    def _asked_event(self, current: Current, *, resumed: bool = False) -> QuestionAsked:
        question = self.ctx.bank.question(current.question_id)
        st = self.state
        round_ = st.rounds[current.round_index] if current.round_index is not None else None
        return QuestionAsked(
            question,
            current.reason,
            len(st.results) + 1,
            round_name=round_.name if round_ else None,
            round_number=(current.round_index + 1) if current.round_index is not None else None,
            rounds_total=len(st.rounds) if round_ else None,
            deadline=round_.deadline() if round_ else None,
            resumed=resumed,
            draft=current.answer,
        )

    def _close(self) -> list[Event]:
        self.state.ended = True
        self.state.current = None
        self._save()
        self.ctx.store.end_session(self.id, user_id=self.ctx.user_id)
        return [SessionEnded(self.report())]

    def report(self) -> str:
        return session_report(self.ctx.bank, self.state, self.ctx.schedule, self.ctx.clock())

    def _round_name(self, current: Current) -> str | None:
        if current.round_index is None:
            return None
        return self.state.rounds[current.round_index].name

    def _elapsed(self, current: Current) -> float:
        return round((self.ctx.clock() - current.started_at).total_seconds(), 1)

    def _still_held(self) -> None:
        """SessionMovedError, before anything is stored, when another chat took the session."""
        if self.holder is not None:
            self._save()

    def _save(self) -> None:
        state = self.state.model_dump(mode="json")
        self.ctx.store.save_session_state(
            self.id, state, user_id=self.ctx.user_id, holder=self.holder
        )


def _tests(current: Current) -> tuple[int, int] | None:
    """(passed, total) of the answer's hidden-test run, when it had one."""
    if current.tests_json is None:
        return None
    run = json.loads(current.tests_json)
    return int(run.get("passed", 0)), int(run.get("total", 0))
