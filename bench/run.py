"""Benchmarks: `python bench/run.py [retrieval] [grading] [agreement] [runner]` (default: all).

Figures are printed as JSON and written to bench/results/<suite>.json. They are measurements for
the closing notes and the README, not pass/fail checks.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.content import load_bank  # noqa: E402


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "p50_ms": round(at(0.50) * 1000, 2),
        "p95_ms": round(at(0.95) * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
        "n": len(ordered),
    }


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return samples


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


COLD_START = """
import time, sys
began = time.perf_counter()
sys.path.insert(0, {root!r})
from bot.config import Settings
from bot.knowledge.kb import KnowledgeBase
kb = KnowledgeBase(Settings(data_dir={data!r}))
kb.search("kv cache paged attention", k=5)
print(time.perf_counter() - began)
"""


def bench_retrieval() -> dict[str, object]:
    from bot.knowledge.kb import KnowledgeBase, Method

    bank = load_bank(ROOT)
    data = Path(tempfile.mkdtemp(prefix="ib-bench-"))
    kb = KnowledgeBase(Settings(data_dir=data))
    cold = kb.sync(bank)
    incremental = kb.sync(bank)
    queries = [q.prompt for q in bank.questions.values()]
    results: dict[str, object] = {
        "chunks": kb.count(),
        "docs": len(bank.docs),
        "index_cold_s": cold.seconds,
        "index_cold_chunks_per_s": round(cold.added / cold.seconds, 1),
        "index_incremental_s": incremental.seconds,
    }
    kb.search("warm up", k=5)
    method: Method
    for method in ("dense", "lexical", "hybrid"):
        it = iter(queries * 3)

        def query(it: Iterator[str] = it, method: Method = method) -> None:
            kb.search(next(it), k=5, method=method)

        results[f"query_{method}"] = percentiles(timed(query, len(queries) * 3))
    kb.close()
    starts = [
        float(
            subprocess.run(
                [sys.executable, "-c", COLD_START.format(root=str(ROOT), data=str(data))],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(3)
    ]
    results["cold_start_open_and_first_query_s"] = round(statistics.median(starts), 3)
    results["peak_rss_mb"] = peak_rss_mb()
    return results


def bench_grading() -> dict[str, object]:
    """Offline grading latency for ~300-word answers, side by side with a baseline in the same
    run: the grader as shipped, and the same grader with its screen switched off (no orders,
    repeats, copies or term lists looked for), interleaved so both see the same machine load.

    The answers are the first 300 words of reference answers. The shipped copy index would set
    them aside as copies and skip the embedding, so here it is built from key points only: the
    copy check still runs on every unit, and the rest of the grade runs as for an own answer.
    Answer units are taken out of the vector cache before each grade (a new answer is not in it).
    """
    from bot.grading import OfflineGrader, evidence
    from bot.grading.copying import CopyIndex, key_points_label
    from bot.grading.evals.ladder import reference_prose
    from bot.grading.screen import Screened
    from bot.text import split_units

    bank = load_bank(ROOT)
    shipped = OfflineGrader(bank)
    shipped._copies = CopyIndex(
        (key_points_label(q.id), kp.text, True)
        for q in bank.questions.values()
        for kp in q.key_points
    )
    cases = []
    for q in sorted(bank.questions.values(), key=lambda q: q.id):
        words = reference_prose(bank, q).split()
        if len(words) >= 300:
            cases.append((q, " ".join(words[:300])))
    class Unscreened(OfflineGrader):
        def screen(self, answer: str, question: object = None) -> Screened:
            units = split_units(answer)
            return Screened(units, [None] * len(units))

    graders = {"shipped": shipped, "screen off": Unscreened(bank)}
    for q, answer in cases:  # warm: key point, topic and reference embeddings, as in a session
        for grader in graders.values():
            grader.grade(q, bank.rubrics[q.rubric], answer)
    samples: dict[str, list[float]] = {name: [] for name in graders}
    load_before, cpu_before = os.getloadavg()[0], time.process_time()
    for q, answer in cases * 2:
        for name, grader in graders.items():
            evidence.UNIT_CACHE.items.clear()
            began = time.perf_counter()
            grader.grade(q, bank.rubrics[q.rubric], answer)
            samples[name].append(time.perf_counter() - began)
    results: dict[str, object] = {
        "answers": len(cases),
        "words_per_answer": 300,
        **{f"grade_300_words_{k.replace(' ', '_')}": percentiles(v) for k, v in samples.items()},
        # The cores are shared: the load average says how much else was running.
        "load_average_1min_before_after": [load_before, round(os.getloadavg()[0], 2)],
        "cpu_ms_per_grade_both": round(
            1000 * (time.process_time() - cpu_before) / sum(map(len, samples.values())), 1
        ),
    }
    results["peak_rss_mb"] = peak_rss_mb()
    return results


DATASET_SPLITS = (
    ("saf_cn_english.csv", "unseen_answers"),
    ("saf_cn_english.csv", "unseen_questions"),
    ("scientsbank_2way.csv", "test-unseen-answers"),
    ("scientsbank_2way.csv", "test-unseen-questions"),
    ("scientsbank_2way.csv", "test-unseen-domains"),
)


def key_term_bags(path: Path) -> dict[str, object]:
    """SAF: a bag of each question's key terms vs the real full-credit answers (unseen splits)."""
    from bot.grading import OfflineGrader
    from bot.grading.evals.datasets import read_csv
    from bot.grading.evals.evaluate import question_for
    from bot.grading.evals.ladder import term_bag

    grader, rows = OfflineGrader(), read_csv(path)
    first = {r.question_id: r for r in rows}

    def score(row: object, answer: str) -> float:
        return grader.grade(*question_for(row, None), answer).score  # type: ignore[arg-type]

    full = [score(r, r.answer) for r in rows if r.score == 100 and r.split != "training"]
    bags = [score(r, term_bag(r.reference)) for r in first.values()]
    return {
        "full_credit_median": statistics.median(full),
        "full_credit_n": len(full),
        "bag_median": statistics.median(bags),
        "bag_max": max(bags),
        "bags": len(bags),
    }


def bench_agreement() -> dict[str, object]:
    """Offline grader vs human scores on every reported split, the labelled set and the ladder."""
    from bot.grading import OfflineGrader
    from bot.grading.evals.datasets import labelled_rows, mark_binary, read_csv
    from bot.grading.evals.evaluate import evaluate
    from bot.grading.evals.ladder import ladder_questions, run_ladder

    bank = load_bank(ROOT)
    datasets = ROOT.parent / "shared" / "datasets"
    results: dict[str, object] = {}
    for file, split in DATASET_SPLITS:
        rows = mark_binary(read_csv(datasets / file, split=split))
        results[f"{file}:{split}"] = evaluate(OfflineGrader(), rows)
    results["labelled"] = evaluate(OfflineGrader(bank), labelled_rows(bank), bank)
    results["saf_key_term_bags"] = key_term_bags(datasets / "saf_cn_english.csv")
    fair = OfflineGrader(bank, detect_copies=False)
    ladder = [run_ladder(OfflineGrader(bank), bank, q, fair) for q in ladder_questions(bank)]
    rungs = list(ladder[0]["scores"]) if ladder else []
    results["ladder"] = {
        "questions": len(ladder),
        "all_ordered": all(r["ok"] for r in ladder),
        "failed_checks": sum(not v for r in ladder for v in r["checks"].values()),
        "mean_score_by_kind": {
            kind: {
                rung: round(
                    statistics.fmean(r["scores"][rung] for r in ladder if r["kind"] == kind), 1
                )
                for rung in rungs
            }
            for kind in sorted({r["kind"] for r in ladder})
        },
    }
    return results


RUNNER_RUNS = 30
RUNNER_BURST = 24


def bench_runner() -> dict[str, object]:
    """Code runner: a typical submission (a difficulty-3 question's reference solution against its
    examples and hidden tests), sequential latency, then throughput with 4 runs in flight through
    run_tests_async under the concurrency cap (the default 2, then 4)."""
    import asyncio
    import os

    from bot.sandbox import isolation, protections, run_tests, run_tests_async

    bank = load_bank(ROOT)
    chosen = sorted(
        (q for q in bank.questions.values() if q.coding and q.difficulty == 3), key=lambda q: q.id
    )[:5]
    cases = []
    for q in chosen:
        assert q.coding is not None
        cases.append((q.coding.reference_solution, q.coding, [*q.coding.examples, *q.coding.tests]))

    def sequential() -> list[float]:
        it = iter(cases * (RUNNER_RUNS // len(cases)))

        def one() -> None:
            code, spec, tests = next(it)
            report = run_tests(code, spec, tests)
            assert report.error is None and report.passed == report.total, report.results

        return timed(one, RUNNER_RUNS)

    async def burst() -> float:
        queue = list(cases * (RUNNER_BURST // len(cases) + 1))[:RUNNER_BURST]

        async def worker() -> None:
            while queue:
                code, spec, tests = queue.pop()
                report = await run_tests_async(code, spec, tests)
                assert report.passed == report.total

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(4)))
        return time.perf_counter() - began

    run_tests(*cases[0])  # the first run probes the machine's protections
    results: dict[str, object] = {
        "questions": [q.id for q in chosen],
        "tests_per_run": round(statistics.fmean(len(t) for _, _, t in cases), 1),
        "protections_active": [k for k, p in protections().items() if p.active],
        "latency": percentiles(sequential()),
    }
    previous = os.environ.get("INTERVIEW_BOT_RUNNER_CONCURRENCY")
    for cap in (2, 4):
        os.environ["INTERVIEW_BOT_RUNNER_CONCURRENCY"] = str(cap)
        seconds = asyncio.run(burst())
        results[f"throughput_4_in_flight_cap_{cap}"] = {
            "runs": RUNNER_BURST,
            "seconds": round(seconds, 2),
            "runs_per_s": round(RUNNER_BURST / seconds, 2),
        }
    if previous is None:
        os.environ.pop("INTERVIEW_BOT_RUNNER_CONCURRENCY")
    else:
        os.environ["INTERVIEW_BOT_RUNNER_CONCURRENCY"] = previous
    bare = isolation.Isolation(
        None, False, False, False, False, sys.executable, "", dict.fromkeys(
            ("network_namespace", "pid_namespace", "private_filesystem", "unprivileged_user"),
            "switched off for the comparison",
        ),
    )  # fmt: skip
    probed, isolation._PROBED[:] = list(isolation._PROBED), [bare]
    try:  # the same runs with rlimits only: what the namespaces and the uid switch cost
        results["latency_rlimits_only"] = percentiles(sequential())
    finally:
        isolation._PROBED[:] = probed
    results["peak_rss_mb"] = peak_rss_mb()
    return results


SUITES: dict[str, Callable[[], dict[str, object]]] = {
    "retrieval": bench_retrieval,
    "grading": bench_grading,
    "agreement": bench_agreement,
    "runner": bench_runner,
}


def run_suites(
    suites: dict[str, Callable[[], dict[str, object]]], prefix: str = "", doc: str | None = None
) -> None:
    """Command line for a set of suites: run the chosen ones, print and save their figures."""
    parser = argparse.ArgumentParser(description=doc or __doc__)
    parser.add_argument("suites", nargs="*", default=list(suites), choices=list(suites))
    args = parser.parse_args()
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    for suite in args.suites:
        figures = {**suites[suite](), "load_average_1m": round(os.getloadavg()[0], 2)}
        (out_dir / f"{prefix}{suite}.json").write_text(json.dumps(figures, indent=2) + "\n")
        print(json.dumps({suite: figures}, indent=2), flush=True)


def main() -> None:
    run_suites(SUITES)


if __name__ == "__main__":
    main()
