"""Crash bench: kill -9 the app while it grades, restart it, Resume and Submit; count the damage.

    python bench/crash.py [--runs 10] [--postgres]

Each run starts the app in a process of its own (the real Chainlit handlers of bot.web.app in
Chainlit's HTTP context, as the tests drive them, on a SQLite file or, with --postgres, a
throwaway PostgreSQL cluster), answers a question (runs alternate a written answer and a coding
answer) and presses Submit; as soon as the answer is stored and not yet graded, the process gets
SIGKILL. A new process then starts the app (its start-up heals what it can), opens the page,
presses Resume if offered and Submit. Counted over all runs: answers lost (the text is in no
attempt), attempts left ungraded, duplicate attempts (two of one question in one session).
The kill-free figure beside it: the same runs with no kill. BENCH_SOURCE=/path/to/checkout
measures another checkout. Writes bench/results/crash.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("BENCH_SOURCE") or HERE.parent).resolve()
PAIR_SUM = (
    "```python\n# run {n}\ndef pair_sum_indices(nums, target):\n    seen = {{}}\n"
    "    for i, x in enumerate(nums):\n        if target - x in seen:\n"
    "            return [seen[target - x], i]\n        seen[x] = i\n    return []\n```"
)
KV_CACHE = (
    "Run {n}: the KV cache keeps the keys and values of earlier tokens so each decoding step "
    "attends to them without recomputing them; its memory grows with layers, heads, sequence "
    "length and batch size, which is why paged allocation and quantised caches matter."
)
QUESTIONS = [("dd-kv-cache", KV_CACHE), ("coding-pair-sum-indices", PAIR_SUM)]
HEAL_WAIT_S = 180.0


# --- the app process -----------------------------------------------------------------------


def child(phase: str, question: str, text: str) -> None:
    sys.path.insert(0, str(ROOT))
    import chainlit as cl
    from chainlit.context import init_http_context

    from bot.web import app

    async def main() -> None:
        context = init_http_context()
        messages: list[dict[str, Any]] = []

        async def keep(step: dict[str, Any], *_: Any, **__: Any) -> None:
            messages.append(step)

        async def quiet(*_: Any, **__: Any) -> None:
            return None

        actions: list[dict[str, Any]] = []

        async def emit(event: str, data: Any) -> None:
            if event == "action":
                actions.append(data)

        emitter: Any = context.emitter
        emitter.send_step = emitter.update_step = emitter.stream_start = keep
        emitter.send_token = emitter.send_element = quiet
        emitter.emit = emit
        emitter.set_chat_settings = lambda settings: None
        await app.on_app_startup()
        if phase == "first":
            await app.on_chat_start()
            await app.on_settings_update({"mode": "single", "question": question})
            await app.on_start(cl.Action(name="start", payload={}))
            await app.on_message(cl.Message(content=text))
            print("submitting", flush=True)
            await app.on_submit(cl.Action(name="submit", payload={}))
            return
        await _healed(app.engine_context().store)
        await app.on_chat_start()
        resume = [a for a in actions if a["name"] == "resume"]
        if resume:
            await app.on_resume(cl.Action(name="resume", payload=resume[0]["payload"]))
            await app.on_submit(cl.Action(name="submit", payload={}))

    asyncio.run(main())


async def _healed(store: Any) -> None:
    """Until the start-up's healing pass is done (a checkout without one: at once)."""
    if not hasattr(store, "waiting_for_grade"):
        return
    deadline = time.monotonic() + HEAL_WAIT_S
    while store.waiting_for_grade() and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


# --- the bench -----------------------------------------------------------------------------


def start(env: dict[str, str], phase: str, question: str, text: str) -> subprocess.Popen[str]:
    args = [sys.executable, __file__, "--child", phase, "--question", question, "--text", text]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)


def one_run(n: int, url: str, env: dict[str, str], kill: bool) -> dict[str, Any]:
    import sqlalchemy as sa

    question, template = QUESTIONS[n % len(QUESTIONS)]
    text = template.format(n=n)
    engine = sa.create_engine(url)
    first = start(env, "first", question, text)
    killed_while_grading = False
    if kill:
        killed_while_grading = _kill_when_waiting(first, engine, text)
    first.wait(timeout=300)
    second = start(env, "second", question, text)
    second.wait(timeout=600)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT session_id, question_id, answer, grade_json FROM attempts")
        ).all()
    engine.dispose()
    mine = [r for r in rows if r.answer == text]
    return {
        "question": question,
        "killed_while_grading": killed_while_grading,
        "answer_lost": not mine,
        "ungraded": sum(r.grade_json is None for r in mine),
        "duplicates": max(0, len(mine) - len({(r.session_id, r.question_id) for r in mine})),
    }


def _kill_when_waiting(proc: subprocess.Popen[str], engine: Any, text: str) -> bool:
    """SIGKILL as soon as the answer is stored and ungraded; whether that moment was caught."""
    import sqlalchemy as sa

    query = sa.text("SELECT grade_json FROM attempts WHERE answer = :t")
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with engine.connect() as conn:
                found = conn.execute(query, {"t": text}).all()
        except sa.exc.OperationalError:  # tables not made yet, or the file locked a moment
            found = []
        if found and all(r.grade_json is None for r in found):
            os.kill(proc.pid, signal.SIGKILL)
            return True
        time.sleep(0.005)
    return False


def bench(runs: int, url: str, env: dict[str, str], *, kill: bool) -> dict[str, Any]:
    results = []
    for n in range(runs):
        results.append(one_run(n, url, env, kill))
        print(f"run {n + 1}/{runs}, kill={kill}: {results[-1]}", file=sys.stderr, flush=True)
    return {
        "runs": runs,
        "killed_while_grading": sum(r["killed_while_grading"] for r in results),
        "answers_lost": sum(r["answer_lost"] for r in results),
        "attempts_ungraded_after_restart": sum(r["ungraded"] for r in results),
        "duplicate_attempts": sum(r["duplicates"] for r in results),
    }


def environment(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["INTERVIEW_BOT_DATA_DIR"] = tempfile.mkdtemp(prefix="ib-crash-")
    env["CHAINLIT_APP_ROOT"] = tempfile.mkdtemp(prefix="ib-crash-cl-")
    env["INTERVIEW_BOT_DATABASE_URL"] = url
    env["INTERVIEW_BOT_GRADER"] = "offline"
    return env


def measure(runs: int, url_for: Any) -> dict[str, Any]:
    out = {}
    for label, kill in (("with kill -9", True), ("no kill", False)):
        url = url_for()
        out[label] = bench(runs, url, environment(url), kill=kill)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--child", choices=["first", "second"])
    parser.add_argument("--question")
    parser.add_argument("--text")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.question, args.text)
        return
    if args.postgres:
        result = {"postgresql": _with_postgres(args.runs)}
    else:
        tmp = Path(tempfile.mkdtemp(prefix="ib-crash-db-"))
        names = iter(range(1000))
        result = {"sqlite": measure(args.runs, lambda: f"sqlite:///{tmp}/h{next(names)}.db")}
    result["source"] = str(ROOT)  # type: ignore[assignment]
    print(json.dumps(result, indent=2))
    out = HERE / "results" / ("crash-postgres.json" if args.postgres else "crash.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


def _with_postgres(runs: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE.parent))
    import sqlalchemy as sa

    from tests.postgres import Cluster, admin_engine, find_server_bin_dir

    bin_dir = find_server_bin_dir()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL server binaries (apt-get install -y postgresql)")
    cluster = Cluster(bin_dir)
    names = iter(range(1000))

    def new_database() -> str:
        name = f"crash{next(names)}"
        with admin_engine(cluster.url).connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        return sa.make_url(cluster.url).set(database=name).render_as_string(hide_password=False)

    try:
        cluster.init()
        cluster.start()
        return measure(runs, new_database)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
