"""Fairness bench: another user's Start and Submit, unloaded and while one user loads the app.

    python bench/fairness.py [--rounds 20] [--slow 6] [--tabs-are-users]

The load is one user ("alice", signed in, so her tabs are one user) who keeps submitting a 1 MB
answer in one tab and code that sleeps past every hidden test's time limit in `--slow` others.
Meanwhile "bob" opens the page, Starts a single question, writes an answer and Submits, `--rounds`
times. Every action goes through the real Chainlit handlers (bot.web.app) inside Chainlit's HTTP
context, as the tests drive them. With --tabs-are-users alice is not signed in: each of her tabs
counts as a user of its own. BENCH_SOURCE=/path/to/checkout measures another checkout's app.

Prints bob's latencies side by side (p50/p95, ms) and writes bench/results/fairness.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("BENCH_SOURCE") or HERE.parent).resolve()
sys.path.insert(0, str(ROOT))
os.environ["INTERVIEW_BOT_DATA_DIR"] = tempfile.mkdtemp(prefix="ib-fair-")
os.environ["CHAINLIT_APP_ROOT"] = tempfile.mkdtemp(prefix="ib-fair-cl-")

import chainlit as cl  # noqa: E402
from chainlit.context import init_http_context  # noqa: E402

from bot.web import app  # noqa: E402

BIG_BYTES = 1_000_000
BOB_QUESTION = "dd-kv-cache"
BOB_ANSWER = (
    "The KV cache keeps the keys and values of earlier tokens, so each new token attends to them "
    "without recomputing; memory grows with layers, heads, sequence length and batch size."
)
SLOW_QUESTION = "coding-pair-sum-indices"


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50_ms": round(at(0.5) * 1000, 1), "p95_ms": round(at(0.95) * 1000, 1)}


def chat(user: str | None = None) -> list[str]:
    """A new chat (browser tab) in this task, its messages counted, nothing sent anywhere."""
    context = init_http_context(user=cl.User(identifier=user) if user else None)
    texts: list[str] = []

    async def keep(step: dict[str, Any], *_: Any, **__: Any) -> None:
        texts.append(str(step.get("output", "")))

    async def quiet(*_: Any, **__: Any) -> None:
        return None

    emitter: Any = context.emitter
    emitter.send_step = emitter.update_step = emitter.stream_start = keep
    emitter.send_token = emitter.emit = emitter.send_element = quiet
    emitter.set_chat_settings = lambda settings: None
    return texts


async def answer(question: str, text: str) -> None:
    await app.on_settings_update({"mode": "single", "question": question})
    await app.on_start(cl.Action(name="start", payload={}))
    await app.on_message(cl.Message(content=text))
    await app.on_submit(cl.Action(name="submit", payload={}))
    await app.on_end(cl.Action(name="end", payload={}))  # a Start in a running chat asks first


async def alice_big(user: str | None, stop: asyncio.Event, done: list[str]) -> None:
    chat(user)
    await app.on_chat_start()
    big = ("The cache grows with the batch. " * (BIG_BYTES // 32 + 1))[:BIG_BYTES]
    while not stop.is_set():
        await answer(BOB_QUESTION, big)
        done.append("big")


async def alice_slow(user: str | None, stop: asyncio.Event, done: list[str]) -> None:
    chat(user)
    await app.on_chat_start()
    q = app.engine_context().bank.question(SLOW_QUESTION)
    assert q.coding is not None
    code = (
        f"```python\nimport time\ndef {q.coding.entry_point}(nums, target):\n"
        "    time.sleep(600)\n```"
    )
    while not stop.is_set():
        await answer(SLOW_QUESTION, code)
        done.append("slow")


async def bob(rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"open page": [], "Start": [], "Submit": []}
    for _ in range(rounds):
        texts = chat()
        began = time.perf_counter()
        await app.on_chat_start()
        times["open page"].append(time.perf_counter() - began)
        await app.on_settings_update({"mode": "single", "question": BOB_QUESTION})
        began = time.perf_counter()
        await app.on_start(cl.Action(name="start", payload={}))
        times["Start"].append(time.perf_counter() - began)
        await app.on_message(cl.Message(content=BOB_ANSWER))
        began = time.perf_counter()
        await app.on_submit(cl.Action(name="submit", payload={}))
        times["Submit"].append(time.perf_counter() - began)
        assert any(t.startswith("**Feedback on") for t in texts), texts[-3:]
    return times


async def measure(rounds: int, slow: int, tabs_are_users: bool) -> dict[str, Any]:
    await app.on_app_startup()
    await asyncio.to_thread(app.engine_context().grader, "auto")  # warm, as a server is
    unloaded = await bob(rounds)
    stop, done = asyncio.Event(), list[str]()
    user = None if tabs_are_users else "alice"
    load = [asyncio.create_task(alice_big(user, stop, done))]
    load += [asyncio.create_task(alice_slow(user, stop, done)) for _ in range(slow)]
    await asyncio.sleep(3.0)  # alice's runs and grades are under way
    began = time.perf_counter()
    loaded = await bob(rounds)
    seconds = time.perf_counter() - began
    stop.set()
    for task in load:
        task.cancel()
    await asyncio.gather(*load, return_exceptions=True)
    return {
        "rounds": rounds,
        "slow_tabs": slow,
        "alice": "one tab per user" if tabs_are_users else "signed in: one user",
        "loaded_seconds": round(seconds, 1),
        "alice_submissions_done_meanwhile": {k: done.count(k) for k in ("big", "slow")},
        "bob": {
            name: {"unloaded": percentiles(unloaded[name]), "loaded": percentiles(loaded[name])}
            for name in unloaded
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--slow", type=int, default=6)
    parser.add_argument("--tabs-are-users", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(measure(args.rounds, args.slow, args.tabs_are_users))
    result["source"] = str(ROOT)
    print(f"{'bob':<10} {'unloaded p50/p95 ms':>22} {'loaded p50/p95 ms':>22}")
    for name, row in result["bob"].items():
        u, lo = row["unloaded"], row["loaded"]
        unloaded, loaded = f"{u['p50_ms']} / {u['p95_ms']}", f"{lo['p50_ms']} / {lo['p95_ms']}"
        print(f"{name:<10} {unloaded:>22} {loaded:>22}")
    print(json.dumps(result, indent=2))
    out = HERE / "results" / "fairness.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    os._exit(0)  # alice's last code runs are abandoned, not awaited


if __name__ == "__main__":
    main()
