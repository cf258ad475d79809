"""Slow work in lanes of its own, per user: one user's queue of grades or code runs delays only
their own next job; the handlers' worker threads stay free for everyone else."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator

import chainlit as cl
import pytest
from chainlit.context import init_http_context

from bot.web import app
from bot.web.lanes import FairQueue
from tests.test_web import Recorder, act

STEP = 0.05


@pytest.fixture(autouse=True)
def _fresh_engine() -> Iterator[None]:
    app.engine_context.cache_clear()
    yield
    app.engine_context().store.close()
    app.engine_context.cache_clear()


def _job(log: list[str], name: str, running: set[str] | None = None) -> Callable[[], str]:
    def work() -> str:
        user = name.split("-")[0]
        if running is not None:
            assert user not in running, f"two of {user}'s jobs ran at once"
            running.add(user)
        time.sleep(STEP)
        log.append(name)
        if running is not None:
            running.discard(user)
        return name

    return work


def test_users_take_turns_so_a_long_queue_delays_only_its_owner() -> None:
    lane, log = FairQueue("test", 1), []
    futures = [lane.submit("alice", _job(log, f"alice-{i}")) for i in range(5)]
    futures.append(lane.submit("bob", _job(log, "bob-1")))
    assert [f.result(timeout=10) for f in futures][-1] == "bob-1"
    assert log[:3] == ["alice-0", "bob-1", "alice-1"], "bob waited only for alice's running job"


def test_a_user_has_one_job_in_flight_and_others_run_beside_it() -> None:
    lane, log, running = FairQueue("test", 3), [], set()
    began = time.perf_counter()
    alice = [lane.submit("alice", _job(log, f"alice-{i}", running)) for i in range(3)]
    bob = lane.submit("bob", _job(log, "bob-1", running))
    assert bob.result(timeout=10) == "bob-1"
    bob_done = time.perf_counter() - began
    for f in alice:
        f.result(timeout=10)
    assert bob_done < 2 * STEP + 0.5, "bob ran beside alice, not after her three jobs"
    assert [n for n in log if n.startswith("alice")] == ["alice-0", "alice-1", "alice-2"]


def test_errors_reach_the_caller_and_a_cancelled_job_never_runs() -> None:
    lane, log = FairQueue("test", 1), []
    gate = threading.Event()
    first = lane.submit("alice", gate.wait)
    dropped = lane.submit("alice", _job(log, "alice-dropped"))
    failing = lane.submit("bob", lambda: 1 / 0)
    assert dropped.cancel()
    gate.set()
    assert first.result(timeout=10) is True
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=10)
    time.sleep(3 * STEP)
    assert log == []


def test_many_slow_code_runs_of_one_user_leave_other_users_start_and_submit_quick() -> None:
    """As many slow Run examples as the event loop has worker threads (one user, many tabs)
    used to hold every thread: another candidate's Start waited for a run to end."""
    tabs = min(32, (os.cpu_count() or 1) + 4)  # asyncio's default executor size

    async def main() -> None:
        ctx = app.engine_context()
        if "alice" not in {u.id for u in ctx.store.users()}:
            ctx.store.add_user("alice")  # as her first sign-in would
        q = ctx.bank.question("coding-pair-sum-indices")
        assert q.coding is not None
        slow = (
            "```python\nimport time\n"
            f"def {q.coding.entry_point}(nums, target):\n    time.sleep(1.5)\n    return []\n```"
        )
        running: list[int] = []

        async def slow_tab(n: int) -> None:
            Recorder().attach(init_http_context(user=cl.User(identifier="alice")).emitter)
            await app.on_chat_start()
            await app.on_settings_update({"mode": "single", "question": q.id})
            await app.on_start(act("start"))
            await app.on_message(cl.Message(content=slow))
            running.append(n)
            await app.on_run_examples(act("run_examples"))

        async def other_user() -> dict[str, float]:
            ui = Recorder()
            ui.attach(init_http_context().emitter)
            waited = time.perf_counter()
            while len(running) < tabs:  # every tab of alice's has sent its code
                assert time.perf_counter() - waited < 60, f"{len(running)} of {tabs} tabs ready"
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.3)  # alice's runs hold the code runner now
            began = time.perf_counter()
            await app.on_chat_start()
            await app.on_settings_update({"mode": "single", "question": "dd-kv-cache"})
            await app.on_start(act("start"))
            start = time.perf_counter() - began  # the page opened and a question asked
            await app.on_message(cl.Message(content="Keys and values of past tokens are cached."))
            began = time.perf_counter()
            await app.on_submit(act("submit"))
            submit = time.perf_counter() - began
            assert any(t.startswith("**Feedback on") for t in ui.texts())
            return {"start": start, "submit": submit}

        await asyncio.to_thread(ctx.grader, "auto")  # warm, as a running server is
        slow_tasks = [asyncio.create_task(slow_tab(n)) for n in range(tabs)]
        times = await other_user()
        for task in slow_tasks:
            task.cancel()  # queued runs are dropped; the one running finishes
        await asyncio.gather(*slow_tasks, return_exceptions=True)
        assert times["start"] < 1.0, times
        assert times["submit"] < 3.0, times  # not behind alice's runs (1.5 s and more each)

    asyncio.run(main())


def test_the_user_served_least_recently_goes_first() -> None:
    lane, log = FairQueue("test", 1), []
    gate = threading.Event()
    lane.submit("carol", gate.wait)  # holds the thread while the queues fill
    time.sleep(STEP)
    done = [lane.submit("alice", _job(log, f"alice-{i}")) for i in range(3)]
    done += [lane.submit("bob", _job(log, f"bob-{i}")) for i in range(2)]
    done.append(lane.submit("carol", _job(log, "carol-1")))  # served already: waits its turn
    gate.set()
    for f in done:
        f.result(timeout=10)
    assert log == ["alice-0", "bob-0", "carol-1", "alice-1", "bob-1", "alice-2"]
