"""Accounts benchmarks: the login page to the first question, and the history of a user with
5,000 attempts.

    python bench/accounts.py [login] [history]

login: a real `chainlit run` server with password login; headless Chromium opens the login page
(the clock starts once its form shows), signs in, presses Start and waits for the first question.
The first of the runs warms the server; the figures are of the runs after it, each in a new
browser context (a new visitor).
history: a store holding 5,000 attempts of the user (and 5,000 of another user), inserted
directly; the History handler (summary, progress, chart and the newest page) runs as that user
inside a Chainlit context whose sends are dropped, timed from the click to its last send.

Figures are printed as JSON and written to bench/results/accounts-<suite>.json.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import percentiles, run_suites  # noqa: E402

PASSWORD = "a bench password"
ATTEMPTS = 5_000


def bench_login(runs: int = 6) -> dict[str, object]:
    from playwright.sync_api import expect, sync_playwright

    from bot.accounts import hash_password
    from bot.store import AttemptStore
    from bot.web.launch import CHROMIUM, CHROMIUM_ARGS, running_app

    work = Path(tempfile.mkdtemp(prefix="ib-bench-login-"))
    os.environ["INTERVIEW_BOT_PASSWORD_LOGIN"] = "true"
    with AttemptStore.open(f"sqlite:///{work / 'data' / 'history.sqlite3'}") as store:
        store.add_user("bench", password_hash=hash_password(PASSWORD))
    total, sign_in, start, post = [], [], [], []
    with running_app(work, data_dir=work / "data") as app, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(runs):
            page = browser.new_context().new_page()
            page.goto(app.url)
            expect(page.locator("#password")).to_be_visible(timeout=60_000)
            began = time.perf_counter()
            page.locator("#email").fill("bench")
            page.locator("#password").fill(PASSWORD)
            with page.expect_response(lambda r: r.url.endswith("/login")):
                page.get_by_role("button", name="Sign In").click()
            post.append(time.perf_counter() - began)
            page.get_by_role("button", name="Start").first.wait_for(timeout=60_000)
            welcomed = time.perf_counter()
            page.get_by_role("button", name="Start").first.click()
            page.get_by_text("Why this one").last.wait_for(timeout=60_000)
            done = time.perf_counter()
            total.append(done - began)
            sign_in.append(welcomed - began)
            start.append(done - welcomed)
            page.context.close()
        browser.close()
    return {
        "first_run_s": round(total[0], 2),
        "login_page_to_first_question": percentiles(total[1:]),
        "sign_in_to_welcome": percentiles(sign_in[1:]),
        "start_to_first_question": percentiles(start[1:]),
        "fill_and_login_request": percentiles(post[1:]),  # the POST /login answered (bcrypt)
    }


def bench_history(runs: int = 10) -> dict[str, object]:
    os.environ["INTERVIEW_BOT_DATA_DIR"] = tempfile.mkdtemp(prefix="ib-bench-history-")
    os.environ["CHAINLIT_APP_ROOT"] = tempfile.mkdtemp(prefix="ib-bench-cl-")
    import chainlit as cl
    from chainlit.context import init_http_context

    from bot.web import app

    ctx = app.engine_context()
    began = time.perf_counter()
    for user in ("bench", "other"):
        _fill(ctx, user)
    filled = time.perf_counter() - began
    samples: list[float] = []

    async def main() -> None:
        context = init_http_context(user=cl.User(identifier="bench"))
        sent: list[str] = []

        async def keep(step: dict[str, Any], *_: Any, **__: Any) -> None:
            sent.append(str(step.get("output", "")))

        async def quiet(*_: Any, **__: Any) -> None:
            return None

        emitter: Any = context.emitter
        emitter.send_step = emitter.update_step = keep
        emitter.emit = emitter.send_element = quiet
        emitter.set_chat_settings = lambda settings: None
        for _ in range(runs):
            sent.clear()
            start = time.perf_counter()
            await app.on_history(cl.Action(name="history", payload={}))
            samples.append(time.perf_counter() - start)
        assert f"Score history ({ATTEMPTS} attempts)" in "".join(sent), "the user's only"

    asyncio.run(main())
    return {
        "attempts_of_the_user": ATTEMPTS,
        "attempts_in_the_store": 2 * ATTEMPTS,
        "insert_s": round(filled, 1),
        "history_handler": percentiles(samples),
    }


def _fill(ctx: Any, user: str) -> None:
    """ATTEMPTS graded attempts of `user` over a year, in sessions of five, inserted directly."""
    from bot.store.schema import GRADED, attempts_table, sessions_table

    rng = random.Random(user)
    questions = [q for q in ctx.bank.questions.values()]
    grade_json = _a_grade(ctx)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    sessions, attempts = [], []
    for n in range(ATTEMPTS):
        at = start + timedelta(minutes=100 * n)
        if n % 5 == 0:
            sid = uuid.uuid4().hex
            sessions.append(
                {"id": sid, "user_id": user, "mode": "drill", "started_at": at, "ended_at": at}
            )
        q = rng.choice(questions)
        attempts.append(
            {
                "id": uuid.uuid4().hex,
                "session_id": sid,
                "user_id": user,
                "question_id": q.id,
                "kind": q.kind,
                "competency": q.competency,
                "difficulty": q.difficulty,
                "answer": "An answer of about forty words. " * 6,
                "created_at": at,
                "submitted_at": at,
                "graded_at": at,
                "score": round(rng.uniform(20, 95), 1),
                "grade_json": grade_json,
                "grader": "offline",
                "status": GRADED,
            }
        )
    ctx.store.admit_user(user)
    with ctx.store.engine.begin() as conn:
        conn.execute(sessions_table.insert(), sessions)
        conn.execute(attempts_table.insert(), attempts)


def _a_grade(ctx: Any) -> str:
    """One real offline grade's JSON, stored on every inserted attempt (a realistic row size)."""
    question = ctx.bank.question("dd-kv-cache")
    answer = "Cache the keys and values of earlier tokens so each step attends to them again."
    grade = ctx.grader("offline").grade(question, ctx.bank.rubric(question.rubric), answer)
    return str(grade.model_dump_json())


SUITES = {"login": bench_login, "history": bench_history}


def main() -> None:
    run_suites(SUITES, prefix="accounts-", doc=__doc__)


if __name__ == "__main__":
    main()
