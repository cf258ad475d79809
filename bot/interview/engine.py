"""The interview session: mock rounds, drills and single questions, as plain Python.

The front end calls one method per user action (`say`, `hint`, `submit`, `skip`, `end`, and
`tick` once a second for the round timer) and renders the events each returns. Every step
saves the session's state to the store, so a restarted server resumes where it was; the
candidate's text is saved before anything that could fail. Moving from one question to the
next is `bot.interview.flow`; answering clarifying questions is `bot.interview.clarify`.
"""

from __future__ import annotations

import logging

from bot.content import Question
from bot.content.models import TARGET_LEVELS
from bot.errors import BotError
from bot.grading import coding
from bot.grading.language import detect, notice
from bot.interview import clarify, editor
from bot.interview.answering import AnswerFlow
from bot.interview.choose import Choice, drill_pool
from bot.interview.context import EngineContext
from bot.interview.events import (
    ClarificationGiven,
    DraftNoted,
    Event,
    FollowUpAsked,
    HintShown,
    Notice,
    Skipped,
    TimedOut,
    TimerWarning,
)
from bot.interview.followups import choose_follow_ups
from bot.interview.state import DrillSpec, RoundState, SessionState
from bot.store import GRADED, LOCAL_USER, SAVED, SUBMITTED, UNGRADED, AttemptStore
from bot.text import ANSWER_CUT, MAX_ANSWER_BYTES, capped_answer

log = logging.getLogger(__name__)
DRILL_LENGTH = 5
DEFAULT_WARN_MINUTES = 5
WARN_SHARE = 0.25  # a round's time warning comes at most this share of its minutes before the end
HEALED = "The server stopped while grading your answer; it was graded when it restarted."
RESUBMIT = (
    "The server stopped before your submitted answer was graded. It is saved: press **Submit** "
    "to have it graded."
)


class InterviewSession(AnswerFlow):
    # --- starting and resuming ---------------------------------------------------------------

    @classmethod
    def start_mock(
        cls,
        ctx: EngineContext,
        plan_id: str = "standard",
        *,
        minutes: list[int] | None = None,
        difficulty: int = 3,
        grader: str = "auto",
        level: str = "mid",
    ) -> tuple[InterviewSession, list[Event]]:
        plan = ctx.bank.plan(plan_id)
        if level not in TARGET_LEVELS:
            choices = ", ".join(TARGET_LEVELS)
            raise BotError(f"target level must be one of {choices} (got {level!r})")
        rounds = [
            RoundState(
                name=r.name,
                kind=r.kind,
                minutes=(minutes[i] if minutes and i < len(minutes) else r.minutes),
                competencies=list(r.competencies),
                tag=r.tag,
                difficulty=r.difficulty,
            )
            for i, r in enumerate(plan.rounds)
        ]
        state = SessionState(
            mode="mock",
            plan_id=plan.id,
            rounds=rounds,
            difficulty=difficulty,
            grader=grader,
            level=level,
        )
        return cls._begin(ctx, state, plan=plan.id)

    @classmethod
    def start_drill(
        cls,
        ctx: EngineContext,
        competency: str,
        *,
        tag: str | None = None,
        difficulty: int | None = None,
        questions: int = DRILL_LENGTH,
        grader: str = "auto",
    ) -> tuple[InterviewSession, list[Event]]:
        spec = DrillSpec(competency=competency.upper(), tag=tag or None, difficulty=difficulty)
        if not drill_pool(ctx.bank, spec):
            tags = sorted(
                {
                    t
                    for q in drill_pool(ctx.bank, DrillSpec(competency=spec.competency))
                    for t in q.tags
                }
            )
            raise BotError(
                f"no {spec.competency} question has the tag '{tag}'; its tags: {', '.join(tags)}"
                if tags
                else f"no question for competency '{competency}'"
            )
        state = SessionState(mode="drill", drill=spec, max_questions=questions, grader=grader)
        return cls._begin(ctx, state)

    @classmethod
    def start_single(
        cls, ctx: EngineContext, question_id: str, *, grader: str = "auto"
    ) -> tuple[InterviewSession, list[Event]]:
        question = ctx.bank.question(question_id)
        state = SessionState(mode="single", max_questions=1, grader=grader)
        session_id = ctx.store.start_session("single", user_id=ctx.user_id)
        session = cls(ctx, session_id, state)
        return session, [session._ask(Choice(question, "the question you chose"))]

    @classmethod
    def _begin(
        cls, ctx: EngineContext, state: SessionState, *, plan: str | None = None
    ) -> tuple[InterviewSession, list[Event]]:
        session_id = ctx.store.start_session(state.mode, plan=plan, user_id=ctx.user_id)
        session = cls(ctx, session_id, state)
        return session, session._advance()

    @classmethod
    def resume(cls, ctx: EngineContext, session_id: str) -> tuple[InterviewSession, list[Event]]:
        record = ctx.store.load_session(session_id, user_id=ctx.user_id)
        if record.state is None or record.ended_at is not None:
            raise BotError(f"session {session_id} has ended or has nothing to resume")
        session = cls(ctx, session_id, SessionState.model_validate(record.state))
        current = session.state.current
        if current is None and session.state.on_break:
            finished = session.state.rounds[session.state.round_index - 1].name
            return session, [session.break_event(finished)]
        if current is None:
            return session, session._advance()
        event = session._asked_event(current, resumed=True)
        if current.phase == "follow_up":
            if current.follow_up_index >= len(current.follow_ups):  # stopped grading the last
                return session, session._finish(current, session._asked(current))
            ask = current.follow_ups[current.follow_up_index]
            n, total = current.follow_up_index + 1, len(current.follow_ups)
            return session, [event, FollowUpAsked(ask.prompt, n, total)]
        status = None if current.attempt_id is None else ctx.store.status(current.attempt_id)
        if status == GRADED:  # a restart graded what a crash left waiting
            return session, [Notice(HEALED), *session._graded_on_restart(current)]
        return session, [event, Notice(RESUBMIT)] if status in (SUBMITTED, UNGRADED) else [event]

    @staticmethod
    def unfinished(store: AttemptStore, user_id: str = LOCAL_USER) -> list[str]:
        """Ids of sessions that were left open, newest first."""
        return store.open_session_ids(user_id)

    # --- the candidate's actions -------------------------------------------------------------

    @property
    def question(self) -> Question | None:
        current = self.state.current
        return self.ctx.bank.questions[current.question_id] if current else None

    def say(self, text: str) -> list[Event]:
        """A chat message: a clarifying question, part of the answer, or a follow-up answer."""
        current, question = self.state.current, self.question
        if current is None or question is None:
            return [Notice("This session has ended. Start a new one from the settings.")]
        if current.phase == "follow_up":
            return self._answer_follow_up(current, question, text)
        if clarify.is_clarifying(question, text):
            found = clarify.clarify_for(self.ctx, self.state.grader, question, text)
            if found.fact is not None and found.fact not in current.clarified:
                current.clarified.append(found.fact)
                self._save()
            return [ClarificationGiven(found.reply, found.source)]
        room = MAX_ANSWER_BYTES - len(current.answer.encode("utf-8", "surrogatepass"))
        kept, cut = capped_answer(text, room - 2)  # the parts are joined by a blank line
        if kept.strip():
            current.draft.append(kept)
        self._save()
        noted: list[Event] = [DraftNoted(len(current.answer.split()))]
        return [*noted, Notice(ANSWER_CUT)] if cut else noted

    def write_code(self, code: str) -> list[Event]:
        """The code editor's text (or an uploaded file) replaces the answer's code: saved first,
        so Run examples and Submit run exactly what the editor shows."""
        current, question = self.state.current, self.question
        if current is None or question is None or question.coding is None:
            return [Notice("The code editor works on a coding question.")]
        if current.phase != "answering":
            return []  # the answer was submitted: the editor is read-only now
        written = editor.written_code(question, code)
        if written != current.code:
            current.code = written
            self._save()
        return []

    def hint(self) -> list[Event]:
        current, question = self.state.current, self.question
        if current is None or question is None:
            return [Notice("No question is open.")]
        if current.hints_used >= len(question.hints):
            return [Notice("That was the last hint for this question.")]
        current.hints_used += 1
        self._save()
        text = question.hints[current.hints_used - 1]
        return [HintShown(text, current.hints_used, len(question.hints))]

    def submit(self, *, timed_out: bool = False) -> list[Event]:
        current, question = self.state.current, self.question
        if current is None or question is None:
            return [Notice("No question is open.")]
        if current.phase == "follow_up":
            return self._finish(current, question)
        if not timed_out and not current.answer.strip():
            return [Notice("Nothing to submit yet: write your answer first, or press Skip.")]
        events: list[Event] = []
        self._submission(current, question)  # stored, and the state knows it, before grading
        language = detect(current.answer)
        if not language.is_english:  # told before the grade, never a silent near-zero
            events.append(Notice(notice(language)))
        try:
            graded = self._grade(current, question, current.answer, timed_out)
        except Exception as error:  # noqa: BLE001 - the answer is saved; say so and go on
            log.exception("grading failed")
            assert current.attempt_id is not None
            self.ctx.store.set_status(current.attempt_id, UNGRADED)
            events.append(Notice(f"Grading failed ({error}); your answer is saved."))
            return events + self._finish(current, question, graded=False)
        events.append(graded)
        asks = [] if timed_out else choose_follow_ups(question, graded.grade, current.answer)
        if not asks:
            return events + self._finish(current, question, grade=graded.grade, timed_out=timed_out)
        current.phase, current.follow_ups = "follow_up", asks
        self._save()
        return [*events, FollowUpAsked(asks[0].prompt, 1, len(asks))]

    def skip(self) -> list[Event]:
        current, question = self.state.current, self.question
        if current is None or question is None:
            return [Notice("No question is open.")]
        if current.phase == "follow_up":
            return self._finish(current, question)
        saved = bool(current.answer.strip())
        if saved:
            current.attempt_id = self._save_answer(current, question, status=SAVED)
        events: list[Event] = [Skipped(question.id, saved)]
        return events + self._finish(current, question, graded=False)

    def end(self) -> list[Event]:
        current, question = self.state.current, self.question
        if current is not None and question is not None:
            if current.attempt_id is None and current.answer.strip():
                current.attempt_id = self._save_answer(current, question, status=SAVED)
            if current.phase == "follow_up":
                self._finish(current, question, advance=False)
            elif current.attempt_id is not None:  # a partial answer: saved, in the report
                self._finish(current, question, graded=False, advance=False, unfinished=True)
            else:
                self.state.current = None
        return self._close()

    def tick(self) -> list[Event]:
        """Called about once a second in mock mode: warn near the end, submit at time-out."""
        current = self.state.current
        if self.state.mode != "mock" or current is None or current.round_index is None:
            return []
        round_ = self.state.rounds[current.round_index]
        deadline = round_.deadline()
        if deadline is None:
            return []
        left = (deadline - self.ctx.clock()).total_seconds()
        if left <= 0:  # (out_of_time says so to the front end before it calls tick)
            events: list[Event] = [TimedOut(round_.name)]
            if current.phase == "answering":
                return events + self.submit(timed_out=True)
            question = self.question
            assert question is not None
            return events + self._finish(current, question)
        warn = self.warn_seconds(round_)
        if left <= warn and not round_.warned:
            round_.warned = True
            self._save()
            return [TimerWarning(round_.name, max(1, round(left / 60)))]
        return []

    def warn_seconds(self, round_: RoundState) -> float:
        """How long before a round's end its warning comes: the plan's, scaled to the round."""
        plan = self.ctx.bank.plans.get(self.state.plan_id or "")
        plan_warn = (plan.warn_minutes if plan else DEFAULT_WARN_MINUTES) * 60
        return min(plan_warn, round_.minutes * 60 * WARN_SHARE)
    def out_of_time(self) -> bool:
        """Whether the next `tick` submits (a mock round's time is up on an open question)."""
        current = self.state.current
        if self.state.mode != "mock" or current is None or current.round_index is None:
            return False
        deadline = self.state.rounds[current.round_index].deadline()
        return deadline is not None and deadline <= self.ctx.clock()

    def prepare_submit(self) -> None:
        """The part of `submit` that runs code: store the answer, run a coding answer's hidden
        tests. A front end calls it first where code runs apart from grading; `submit` then only
        grades (it does both when called alone)."""
        current, question = self.state.current, self.question
        if current is None or question is None or current.phase != "answering":
            return
        if not current.answer.strip():
            return
        self._submission(current, question)
        if question.coding is not None:
            self._hidden_run(current, question)
            self._save()

    def run_examples(self) -> dict[str, object] | None:
        """Run the visible examples on the code in the draft (coding questions only)."""
        current, question = self.state.current, self.question
        if current is None or question is None or question.coding is None:
            return None
        return coding.run_examples(question, current.answer).to_dict()
