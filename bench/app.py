"""App benchmarks: submit to first feedback token, 20 concurrent sessions, server memory.

    python bench/app.py [feedback] [sessions] [memory]

Figures are printed as JSON and written to bench/results/app-<suite>.json.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import percentiles, run_suites  # noqa: E402
from bot.grading.evals.ladder import reference_prose  # noqa: E402

ANSWER_WORDS = 150


def _answer(bank: Any, question: Any) -> str:
    words = reference_prose(bank, question).split()
    return " ".join(words[:ANSWER_WORDS])


def bench_feedback(runs: int = 40) -> dict[str, object]:
    """Submit (the button handler) to the first streamed feedback token, offline grader, warm."""
    os.environ["INTERVIEW_BOT_DATA_DIR"] = tempfile.mkdtemp(prefix="ib-bench-")
    os.environ["CHAINLIT_APP_ROOT"] = tempfile.mkdtemp(prefix="ib-bench-cl-")
    import chainlit as cl
    from chainlit.context import init_http_context

    from bot.web import app

    ctx = app.engine_context()
    rng = random.Random(7)
    pool = [q for q in ctx.bank.questions.values() if q.kind != "coding"]
    samples: list[float] = []

    async def main() -> None:
        context = init_http_context()
        first: list[float] = []

        async def on_token(*_: Any, **__: Any) -> None:
            if not first:
                first.append(time.perf_counter())

        async def quiet(*_: Any, **__: Any) -> None:
            return None

        emitter: Any = context.emitter
        emitter.send_step = emitter.update_step = emitter.emit = emitter.send_element = quiet
        emitter.stream_start = emitter.send_token = on_token
        emitter.set_chat_settings = lambda settings: None
        await app.on_chat_start()
        for i in range(runs + 1):
            question = rng.choice(pool)
            cl.user_session.set("settings", {"mode": "single", "question": question.id})
            await app.on_start(cl.Action(name="start", payload={}))
            await app.on_message(cl.Message(content=_answer(ctx.bank, question)))
            first.clear()
            began = time.perf_counter()
            await app.on_submit(cl.Action(name="submit", payload={}))
            if i > 0:  # the first run loads the model
                samples.append(first[0] - began)
            await app.on_end(cl.Action(name="end", payload={}))

    asyncio.run(main())
    return {"submit_to_first_token": percentiles(samples), "answer_words": ANSWER_WORDS}


def bench_sessions(users: int = 20, questions: int = 4) -> dict[str, object]:
    """`users` simulated candidates at once through one engine context and store (SQLite file)."""
    from bot.config import Settings
    from bot.content import load_bank
    from bot.interview import EngineContext, InterviewSession
    from bot.interview import events as ev
    from bot.store import AttemptStore

    data = Path(tempfile.mkdtemp(prefix="ib-bench-"))
    settings = Settings(data_dir=data)
    url = os.environ.get("BENCH_DATABASE_URL") or settings.effective_database_url
    store = AttemptStore.open(url)
    ctx = EngineContext(settings, load_bank(ROOT), store)
    ctx.grader("auto")  # load the model once, as a running server has
    latencies: dict[str, list[float]] = {
        "start": [],
        "say": [],
        "submit (coding: runs the hidden tests)": [],
        "submit (other kinds)": [],
    }
    errors: list[str] = []
    sessions: set[str] = set()
    submitted = 0
    lock = threading.Lock()
    competencies = ["C1", "C2", "C3", "C4", "C5", "C6"]

    def timed(kind: str, fn: Any, *args: Any) -> Any:
        began = time.perf_counter()
        out = fn(*args)
        with lock:
            latencies[kind].append(time.perf_counter() - began)
        return out

    def candidate(n: int) -> None:
        nonlocal submitted
        try:
            session, events = timed("start", InterviewSession.start_drill, ctx, competencies[n % 6])
            with lock:
                sessions.add(session.id)
            for _ in range(questions):
                question = session.question
                if question is None:
                    break
                timed("say", session.say, _answer(ctx.bank, question))
                kind = "coding: runs the hidden tests" if question.coding else "other kinds"
                events = timed(f"submit ({kind})", session.submit)
                with lock:
                    submitted += 1
                while any(isinstance(e, ev.FollowUpAsked) for e in events):
                    events = session.skip()
            session.end()
        except Exception as error:  # noqa: BLE001 - counted and reported
            with lock:
                errors.append(f"{type(error).__name__}: {error}")

    began = time.perf_counter()
    threads = [threading.Thread(target=candidate, args=(n,)) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    mine = [a for a in store.attempts() if a.session_id in sessions]  # this run's rows only
    stored = len([a for a in mine if a.answer])
    graded = len([a for a in mine if a.score is not None])
    store.close()
    return {
        "users": users,
        "questions_each": questions,
        "database": url.split(":", 1)[0],
        "wall_s": round(wall, 1),
        "latency": {k: percentiles(v) for k, v in latencies.items() if v},
        "errors": len(errors),
        "error_samples": errors[:3],
        "answers_submitted": submitted,
        "answers_stored": stored,
        "answers_graded": graded,
        "rows_lost": submitted - stored,
    }


def bench_memory() -> dict[str, object]:
    """Resident memory of a real `chainlit run` server: after start and after a graded answer."""
    from bot.web.launch import running_app

    began = time.perf_counter()
    with running_app(Path(tempfile.mkdtemp(prefix="ib-bench-"))) as app:
        up = time.perf_counter() - began
        idle = _rss(app.pid)
        _one_drill_in_chromium(app.url)
        return {"server_start_s": round(up, 1), "rss_idle_mb": idle, **_after(app.pid)}


def _rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _after(pid: int) -> dict[str, float]:
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    kb = lambda key: round(int(status[key].split()[0]) / 1024, 1)  # noqa: E731
    return {"rss_after_graded_answer_mb": kb("VmRSS"), "peak_rss_mb": kb("VmHWM")}


def _one_drill_in_chromium(url: str) -> None:
    from playwright.sync_api import sync_playwright

    from bot.web.launch import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(url)
        page.get_by_role("button", name="Start").first.click()
        page.get_by_text("Why this one").last.wait_for(timeout=60_000)
        page.locator("#chat-input").fill("Batching requests raises throughput on a GPU.")
        page.keyboard.press("Enter")
        page.get_by_text("words so far").last.wait_for(timeout=30_000)
        page.get_by_role("button", name="Submit").last.click()
        page.get_by_text("Graded by").last.wait_for(timeout=90_000)
        browser.close()


SUITES = {"feedback": bench_feedback, "sessions": bench_sessions, "memory": bench_memory}


def main() -> None:
    run_suites(SUITES, prefix="app-", doc=__doc__)


if __name__ == "__main__":
    main()
