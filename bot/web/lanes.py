"""Where the app's slow work runs: grading and code runs, each in a lane of its own, per user.

Chainlit's handlers share the event loop's few worker threads (6 on 2 cores): six slow code
runs used to hold them all, and another candidate's Start waited for one. So a lane has its own
bounded threads, off that pool. Within a lane each user (see `user_key`) has a queue of their
own and at most one job in flight; a free thread takes the next job of the user served least
recently, so one user's big or slow work delays only their own next job, never another user's
beyond the one running.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, TypeVar

import chainlit as cl

from bot.config import get_settings

if TYPE_CHECKING:
    from bot.interview import InterviewSession

T = TypeVar("T")
FORGET_AFTER = 1024  # users whose last turn is remembered before old turns are pruned
GRADING_THREADS = 4  # an LLM grade waits on the network; offline grades queue in the grader


@dataclass
class _Job:
    fn: Callable[[], Any]
    done: Future[Any]


class FairQueue:
    """Bounded worker threads taking jobs from per-user queues, the least recently served user
    first, never two of one user's at once. Threads start with the first jobs and live as long
    as the process."""

    def __init__(self, name: str, threads: int) -> None:
        self.name = name
        self.size = threads
        self._ready = threading.Condition()
        self._queues: OrderedDict[str, deque[_Job]] = OrderedDict()  # users waiting, in turn
        self._running: set[str] = set()
        self._served: dict[str, int] = {}  # user -> the turn their last job was taken at
        self._turn = 0
        self._threads: list[threading.Thread] = []

    def submit(self, user: str, fn: Callable[[], T]) -> Future[T]:
        job = _Job(fn, Future())
        with self._ready:
            self._queues.setdefault(user, deque()).append(job)
            if len(self._threads) < self.size:
                self._start_thread()
            self._ready.notify()
        return job.done

    async def run(self, user: str, fn: Callable[[], T]) -> T:
        """`fn()` in this lane as `user`'s next job; the caller awaits it off the event loop.

        A cancelled caller stops waiting; a job already running finishes.
        """
        return await asyncio.wrap_future(self.submit(user, fn))

    def _start_thread(self) -> None:
        name = f"{self.name}-{len(self._threads) + 1}"
        thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _next(self) -> tuple[str, _Job]:
        """The next job of the user served least recently (never served: first), among users
        with work queued and none in flight; ties go to who queued first."""
        with self._ready:
            while True:
                waiting = [u for u in self._queues if u not in self._running]
                if waiting:
                    break
                self._ready.wait()
            user = min(waiting, key=lambda u: self._served.get(u, -1))
            queue = self._queues.pop(user)
            job = queue.popleft()
            if queue:
                self._queues[user] = queue
            self._running.add(user)
            self._turn += 1
            self._served[user] = self._turn
            self._forget_old_turns()
            return user, job

    def _forget_old_turns(self) -> None:
        """Turns older than every waiting user's are forgotten: they change no choice."""
        if len(self._served) <= FORGET_AFTER:
            return
        oldest = min((self._served.get(u, -1) for u in self._queues), default=self._turn)
        self._served = {u: t for u, t in self._served.items() if t >= oldest}

    def _work(self) -> None:
        while True:
            user, job = self._next()
            try:
                if job.done.set_running_or_notify_cancel():
                    job.done.set_result(job.fn())
            except BaseException as error:  # noqa: BLE001 - handed to the caller
                job.done.set_exception(error)
            finally:
                with self._ready:
                    self._running.discard(user)
                    self._ready.notify_all()


@dataclass(frozen=True)
class Lanes:
    grading: FairQueue  # grading, follow-up answers, clarifying questions
    coding: FairQueue  # a coding answer's hidden tests, Run examples


@lru_cache(maxsize=1)
def lanes() -> Lanes:
    """The process's lanes; code runs get as many threads as the sandbox runs at once."""
    threads = get_settings().runner_concurrency
    return Lanes(FairQueue("grading", GRADING_THREADS), FairQueue("coding", threads))


def user_key() -> str:
    """Whose work this is: the signed-in user's identifier when the app has accounts, else the
    chat session's id (then each browser tab queues on its own)."""
    from bot.web.identity import signed_in_user

    identifier = signed_in_user()
    return f"user:{identifier}" if identifier else f"chat:{cl.user_session.get('id')}"


async def perform(fn: Callable[..., T], *args: Any) -> T:
    """Call an InterviewSession action (a bound method) in its lane, as the current user.

    Submitting (a click, or the round timer's at time-out) runs a coding answer's hidden tests
    in the coding lane first, then grades in the grading lane; a chat message may grade (a
    follow-up answer) or ask an LLM (a clarifying question); Run examples runs code. The rest
    is quick and runs in Chainlit's worker threads, as before.
    """
    from bot.interview import InterviewSession

    session, name, job = (
        getattr(fn, "__self__", None),
        getattr(fn, "__name__", ""),
        partial(fn, *args),
    )
    if not isinstance(session, InterviewSession):
        return await asyncio.to_thread(job)
    user, lane = user_key(), lanes()
    if name == "submit" or (name == "tick" and session.out_of_time()):
        if _runs_code(session):
            await lane.coding.run(user, session.prepare_submit)
        return await lane.grading.run(user, job)
    if name == "say":
        return await lane.grading.run(user, job)
    if name == "run_examples":
        return await lane.coding.run(user, job)
    return await asyncio.to_thread(job)


def _runs_code(session: InterviewSession) -> bool:
    current, question = session.state.current, session.question
    answering = current is not None and current.phase == "answering"
    return answering and question is not None and question.coding is not None
