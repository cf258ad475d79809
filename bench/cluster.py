"""Two app instances behind nginx, sharing PostgreSQL and a Chroma server, under simulated
candidates; one instance is killed (SIGKILL) in the middle.

    python bench/cluster.py                      # 100 candidates, 5 minutes, think 30-90 s
    python bench/cluster.py --candidates 10 --seconds 60 --think 3 9   # a short run

Phases, in one run: (1) connect: every candidate opens the app within --open-window seconds;
(2) burst: every candidate types an answer, then all press Submit at once; (3) steady: each
answers like a person (think, type the answer in two parts, think, Submit) until --seconds have
passed, and halfway through the instance serving the first candidate is killed. Its candidates
reload (nginx routes them to the other instance), press Resume and go on. At the end every
submitted answer is looked up in the store. Prints JSON and writes bench/results/cluster.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.candidate import Answer, Candidate, interview, is_question, submit, title_of  # noqa: E402
from bench.cluster_stack import Stack  # noqa: E402
from bench.run import percentiles  # noqa: E402
from bot.content import load_bank  # noqa: E402
from bot.grading.evals.ladder import reference_prose  # noqa: E402
from tests.postgres import Cluster, find_server_bin_dir  # noqa: E402

AUTH_HEADER = "X-Forwarded-User"
ANSWER_WORDS = 150  # as bench/app.py
RESULTS = ROOT / "bench" / "results" / "cluster.json"


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=300.0, help="the steady phase")
    parser.add_argument(
        "--think", type=float, nargs=2, default=(30.0, 90.0), metavar=("MIN", "MAX")
    )
    parser.add_argument("--open-window", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args()


class Writer:
    """A candidate's answer to a question: its reference prose, in two parts, each tagged so
    the answer can be found in the store word for word."""

    def __init__(self) -> None:
        bank = load_bank(ROOT)
        self.prose = {
            q.title: " ".join(reference_prose(bank, q).split()[:ANSWER_WORDS])
            for q in bank.questions.values()
        }
        self.count = 0

    def __call__(self, title: str) -> list[str]:
        self.count += 1
        words = self.prose.get(title, "I would measure first, then change one thing.").split()
        half = len(words) // 2
        tag = f"(answer {self.count})"
        return [" ".join(words[:half]) + f" {tag}", " ".join(words[half:]) + f" {tag} end."]


async def _warm(stack: Stack, write: Writer) -> None:
    """One graded answer on each instance directly, so no figure includes loading a model."""
    for n, app in enumerate(stack.apps):
        c = Candidate(f"http://127.0.0.1:{app.port}", f"warm-{n}", auth_header=AUTH_HEADER)
        try:
            await c.open()
            answer = await _typed(c, write)
            await submit(c, answer)
        finally:
            await c.close()


async def _typed(c: Candidate, write: Writer) -> Answer:
    """Start a drill and type a whole answer to its first question."""
    since = len(c.messages)
    await c.press("start")
    title = title_of(await c.wait_for(is_question, since=since)) or ""
    answer = Answer(title, write(title))
    c.record.answers.append(answer)
    for part in answer.parts:
        await c.say(part)
        answer.acked += 1
    return answer


async def _connect(candidates: list[Candidate], window: float, rng: random.Random) -> None:
    async def one(c: Candidate) -> None:
        await asyncio.sleep(rng.uniform(0, window))
        await c.open()

    await asyncio.gather(*(one(c) for c in candidates))


async def _burst(
    candidates: list[Candidate], write: Writer
) -> tuple[list[float], float, list[str | None]]:
    """Everyone types an answer, then everyone presses Submit at the same moment; the seconds
    each took, the wall time, and the question each is at next."""
    answers = await asyncio.gather(*(_typed(c, write) for c in candidates))
    began = time.perf_counter()
    nexts = await asyncio.gather(*(submit(c, a) for c, a in zip(candidates, answers, strict=True)))
    wall = time.perf_counter() - began
    return [a.submit_s or 0.0 for a in answers], wall, list(nexts)


async def _steady(
    stack: Stack,
    candidates: list[Candidate],
    write: Writer,
    opts: argparse.Namespace,
    titles: list[str | None],
) -> dict[str, Any]:
    rng = random.Random(opts.seed + 1)

    async def think() -> None:
        await asyncio.sleep(rng.uniform(*opts.think))

    began = time.monotonic()
    until = began + opts.seconds
    tasks = [
        asyncio.create_task(interview(c, write, until=until, think=think, title=title))
        for c, title in zip(candidates, titles, strict=True)
    ]
    await asyncio.sleep(opts.seconds / 2)
    routes = stack.routes()
    victim = routes[candidates[0].record.route]
    killed_at = time.monotonic()
    stack.kill(victim)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    crashed = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    on_victim = [c for c in candidates if routes.get(c.record.route) == victim]
    return {
        "began": began,
        "killed_at": killed_at,
        "victims": on_victim,
        "crashed": crashed,
        "rerouted": _rerouted(stack, on_victim, victim),
    }


def _rerouted(stack: Stack, victims: list[Candidate], victim: int) -> int:
    after = stack.routes()
    return sum(after.get(c.record.route) not in (None, victim) for c in victims)


def _stored(url: str) -> list[tuple[str, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT answer, status FROM attempts")).all()
    finally:
        engine.dispose()
    return [(str(r.answer), str(r.status)) for r in rows]


def _lost(candidates: list[Candidate], rows: list[tuple[str, str]]) -> dict[str, int]:
    """Answers submitted; of them, not in the store in full, stored more than once, not graded."""
    by_tag: dict[str, list[tuple[str, str]]] = {}
    for answer, status in rows:
        for tag in set(_tags(answer)):
            by_tag.setdefault(tag, []).append((answer, status))
    submitted = [a for c in candidates for a in c.record.answers if a.submitted]
    lost = twice = ungraded = 0
    for a in submitted:
        same_tag = by_tag.get(_tags(a.text)[0], [])
        found = [(t, s) for t, s in same_tag if all(p in t for p in a.parts)]
        lost += not found
        twice += len(found) > 1
        ungraded += bool(found) and not any(s == "graded" for _, s in found)
    return {
        "answers_submitted": len(submitted),
        "rows_lost": lost,
        "answers_stored_twice": twice,
        "answers_ungraded": ungraded,
    }


def _tags(text: str) -> list[str]:
    return [part.split(")")[0] for part in text.split("(answer ")[1:]]


def _figures(
    opts: argparse.Namespace,
    candidates: list[Candidate],
    burst: tuple[list[float], float, list[str | None]],
    steady: dict[str, Any],
    rows: list[tuple[str, str]],
    index_s: float,
) -> dict[str, Any]:
    connects = [c.record.connect_s[0] for c in candidates if c.record.connect_s]
    samples = [x for c in candidates for x in c.record.submit_s if x[0] >= steady["began"]]
    before = [s for t, s in samples if t - s < steady["killed_at"]]
    after = [s for t, s in samples if t - s >= steady["killed_at"]]
    victims: list[Candidate] = steady["victims"]
    errors = [e for c in candidates for e in c.record.errors] + steady["crashed"]
    return {
        "date": time.strftime("%Y-%m-%d"),
        "candidates": opts.candidates,
        "instances": 2,
        "steady_seconds": opts.seconds,
        "think_s": list(opts.think),
        "cpus": os.cpu_count(),
        "kb_index_in_chroma_s": round(index_s, 1),
        "connect": {
            **percentiles(connects),
            "window_s": opts.open_window,
            "welcomed": len(connects),
        },
        "burst_submit": {**percentiles(burst[0]), "max_ms": round(max(burst[0]) * 1000)},
        "burst_wall_s": round(burst[1], 2),
        "steady_submit": percentiles([s for _, s in samples]) if samples else {},
        "steady_submit_two_instances": percentiles(before) if before else {},
        "steady_submit_one_instance": percentiles(after) if after else {},
        "errors": len(errors),
        "error_samples": errors[:5],
        **_lost(candidates, rows),
        "killed_instance_candidates": len(victims),
        "rerouted": steady["rerouted"],
        "submits_cut_off_by_the_kill": sum(c.record.cut_submits for c in victims),
        "resumed": sum(c.record.resumed >= 1 for c in victims),
        "resume_pct": round(100 * sum(c.record.resumed >= 1 for c in victims) / len(victims), 1)
        if victims
        else None,
        "reload_to_welcome": percentiles([x for c in victims for x in c.record.reload_s])
        if victims
        else {},
    }


async def _run(stack: Stack, opts: argparse.Namespace) -> dict[str, Any]:
    write = Writer()
    await _warm(stack, write)
    rng = random.Random(opts.seed)
    candidates = [
        Candidate(stack.url, f"cand-{n:03d}", auth_header=AUTH_HEADER)
        for n in range(opts.candidates)
    ]
    try:
        await _connect(candidates, opts.open_window, rng)
        burst = await _burst(candidates, write)
        steady = await _steady(stack, candidates, write, opts, burst[2])
    finally:
        await asyncio.gather(*(c.close() for c in candidates), return_exceptions=True)
    return {"candidates": candidates, "burst": burst, "steady": steady}


def main() -> None:
    opts = _options()
    load = os.getloadavg()[0]
    bin_dir = find_server_bin_dir()
    if bin_dir is None:
        sys.exit("PostgreSQL server binaries not found: apt-get install -y postgresql")
    pg = Cluster(bin_dir)
    work = Path(tempfile.mkdtemp(prefix="ib-cluster-"))
    env = {"INTERVIEW_BOT_AUTH_HEADER": AUTH_HEADER, "INTERVIEW_BOT_GRADER": "offline"}
    try:
        pg.init()
        pg.start()
        with Stack(work, database_url=pg.url, chroma=True, env=env) as stack:
            index_s = stack.index()
            run = asyncio.run(_run(stack, opts))
        rows = _stored(pg.url)
    finally:
        pg.stop()
    figures = _figures(opts, run["candidates"], run["burst"], run["steady"], rows, index_s)
    figures["load_before"] = load
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
