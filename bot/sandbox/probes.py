"""Runs inside the sandboxed child: the measurements behind a question's bounds.

Shipped in the job and loaded by harness.py (no project imports). Each probe measures and reports
facts (times, peak bytes, exceptions, node identities); the parent (bot/sandbox/bounds.py) judges
them. The candidate's code and the reference solution run in this same process, on the same
inputs, one after the other, so a busy machine slows both alike.
"""

from __future__ import annotations

import gc
import math
import pickle
import random
import signal
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from typing import Any

SEED = 20261206
LONG_RUN = 0.2  # seconds: runs this long are measured LONG_RUNS times, not best of k...
LONG_RUNS = 2  # ...as the budget allows: one run alone can be slowed by a busy neighbour
MIN_RUNS, MAX_RUNS = 3, 9  # runs per size: at least MIN_RUNS, more while they are short...
SHORT_TOTAL = 0.03  # ...until they add up to this many seconds
FEW_ROWS = 3  # complete sizes below which the scaling check also measures smaller ones
REFERENCE_RUNS = 25  # the reference's runs are short: more of them steady its best time
WALL_PER_CPU = 4.0  # a run's clock limit, as a multiple of the CPU time it has left
MIN_SIZE = 16  # the smallest n it measures when it has to go below the question's sizes


def run_probe(
    namespace: dict[str, Any], job: dict[str, Any], case: dict[str, Any], given: Any
) -> Any:
    """The facts of one probe (`case["probe"]` names it)."""
    candidate = namespace[job["entry_point"]]
    kinds: dict[str, Callable[..., Any]] = {
        "scaling": _scaling,
        "memory": _memory,
        "stress": _stress,
        "relink": _relink,
    }
    return kinds[case["probe"]](candidate, job, case, given)


def _reference(job: dict[str, Any], given: Any) -> Any:
    space: dict[str, Any] = {"__name__": "reference", **given.names(job)}
    exec(compile(job["reference"], "reference.py", "exec"), space)  # noqa: S102
    return space[job["entry_point"]]


def _inputs(work: dict[str, Any], n: int) -> tuple[bytes, list[Any] | None]:
    """The inputs of size n, made once and not timed: the arguments pickled (each run unpickles a
    fresh copy, since the code may change them), and the method calls, shared by every run."""
    args = eval(work["args_expr"], {"n": n, "rng": random.Random(SEED + n)})  # noqa: S307
    calls = None
    if work.get("calls_expr"):
        space = {"n": n, "rng": random.Random(SEED - n)}
        calls = [(m, tuple(a)) for m, a in eval(work["calls_expr"], space)]  # noqa: S307
    return pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL), calls


def _job_of(
    target: Any,
    work: dict[str, Any],
    inputs: tuple[bytes, list[Any] | None],
    job: dict[str, Any],
    given: Any,
) -> Callable[[], Any]:
    """The work as one call, its inputs made beforehand."""
    args, calls = pickle.loads(inputs[0]), inputs[1]  # noqa: S301 (pickled by _inputs)
    if calls is None:
        args, _ = given.convert(args, job)
        repeat = work.get("repeat", 1)
        if repeat == 1:
            return lambda: target(*args)

        def many() -> None:
            for _ in range(repeat):
                target(*args)

        return many

    def operations() -> None:
        obj = target(*args)
        for method, margs in calls:
            getattr(obj, method)(*margs)

    return operations


class _Overtime(BaseException):  # not an Exception: the code's own `except Exception` lets it by
    """The candidate's run went past what is left of the scaling budget."""


def _alarm(signum: int, frame: Any) -> None:
    raise _Overtime


def _best(
    make: Callable[[], Callable[[], Any]], *, cap: float | None, most: int = MAX_RUNS
) -> tuple[float, bool]:
    """The best CPU time (of this thread) of a few runs (more when they are short), so that time
    spent waiting for a busy machine's CPU does not count; with `cap`, the runs stop after `cap` s
    of CPU time in all (or WALL_PER_CPU times that on the clock, against code that sleeps), and
    the second value says so (the time is then a lower bound). A budget in CPU time measures the
    same sizes on a busy machine as on a quiet one: only the wait is longer."""
    best, total, runs = math.inf, 0.0, 0
    gc.collect()
    while runs < MIN_RUNS or (total < SHORT_TOTAL and runs < most):
        go = make()
        gc.disable()
        cpu = time.thread_time()
        try:
            if cap is not None:
                left = max(cap - total, 1e-3)
                signal.setitimer(signal.ITIMER_PROF, left)
                signal.setitimer(signal.ITIMER_REAL, left * WALL_PER_CPU)
            go()
            took = time.thread_time() - cpu
        except _Overtime:
            took = time.thread_time() - cpu
            return (best, False) if runs else (took, True)
        finally:
            if cap is not None:
                signal.setitimer(signal.ITIMER_PROF, 0)
                signal.setitimer(signal.ITIMER_REAL, 0)
            gc.enable()
        best, runs, total = min(best, took), runs + 1, total + took
        if took > LONG_RUN and runs >= LONG_RUNS:
            break
    return best, False


def _scaling(
    candidate: Any, job: dict[str, Any], case: dict[str, Any], given: Any
) -> dict[str, Any]:
    """[n, candidate's best time, reference's best time] per size, smallest first. The candidate
    stops when its time runs past the budget (`over`) or its lag has grown far enough. When that
    leaves fewer than FEW_ROWS complete sizes (slow code on a busy machine), smaller sizes are
    measured too, on a budget of their own, so growth can still be read (`smaller` says how
    many were added: small sizes can hide a growth that shows only at the question's sizes)."""
    reference = _reference(job, given)
    previous = {sig: signal.signal(sig, _alarm) for sig in (signal.SIGALRM, signal.SIGPROF)}
    try:
        sizes = case["sizes"]
        rows, over = _rows_of(candidate, reference, job, case, given, sizes)
        smaller = [sizes[0] >> shift for shift in (3, 2, 1) if sizes[0] >> shift >= MIN_SIZE]
        added = 0
        if len(rows) - over < FEW_ROWS and smaller:
            extra, extra_over = _rows_of(candidate, reference, job, case, given, smaller)
            added = len(extra) - extra_over
            rows = extra[:added] + rows
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return {"rows": rows, "over": over, "smaller": added}


def _rows_of(
    candidate: Any,
    reference: Any,
    job: dict[str, Any],
    case: dict[str, Any],
    given: Any,
    sizes: list[int],
) -> tuple[list[list[float]], bool]:
    """The rows of one pass over `sizes`, and whether the last one ran past the budget."""
    rows: list[list[float]] = []
    spent, over = 0.0, False
    for n in sizes:
        inputs = _inputs(case, n)
        go = partial(_job_of, reference, case, inputs, job, given)
        ref, _ = _best(go, cap=None, most=REFERENCE_RUNS)
        began = time.thread_time()
        make = partial(_job_of, candidate, case, inputs, job, given)
        cand, over = _best(make, cap=case["budget_s"] - spent)
        spent += time.thread_time() - began
        rows.append([n, cand, ref])
        if over or (len(rows) >= 2 and _no_further(rows, case, spent)):
            break
    return rows, over


def _no_further(rows: list[list[float]], case: dict[str, Any], spent: float) -> bool:
    """Whether the candidate has fallen far enough behind the reference since the first size, or
    its next size would not fit the budget (at the rate its last doubling grew)."""
    (_, c0, r0), (_, c1, r1) = rows[0], rows[-1]
    lag = (c1 / max(r1, 1e-9)) / max(c0 / max(r0, 1e-9), 1e-9)
    step = max(c1 / max(rows[-2][1], 1e-9), 1.0)
    next_run = c1 * step * (1 if c1 * step > LONG_RUN else MIN_RUNS)
    return bool(lag >= case["stop_lag"] or spent + next_run > case["budget_s"])


def _peak(make: Callable[[], Callable[[], Any]], cap: float | None = None) -> int:
    """Peak bytes allocated while the work runs (its inputs made before); with `cap`, the work
    stops after `cap` seconds and the peak so far is what it reached."""
    go = make()
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        if cap is not None:
            signal.setitimer(signal.ITIMER_REAL, cap)
        go()
    except _Overtime:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _memory(
    candidate: Any, job: dict[str, Any], case: dict[str, Any], given: Any
) -> dict[str, Any]:
    reference, n = _reference(job, given), case["n"]
    inputs = _inputs(case, n)
    ref = _peak(partial(_job_of, reference, case, inputs, job, given))
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        cand = _peak(partial(_job_of, candidate, case, inputs, job, given), case["budget_s"])
    finally:
        signal.signal(signal.SIGALRM, previous)
    return {"n": n, "candidate": cand, "reference": ref}


def _stress(
    candidate: Any, job: dict[str, Any], case: dict[str, Any], given: Any
) -> dict[str, Any]:
    """Threads hammering one object, with a tiny switch interval so that races show up: fresh
    objects round after round, until one goes wrong, the rounds run out or the budget does."""
    interval, began = sys.getswitchinterval(), time.perf_counter()
    errors: list[str] = []
    broken = rounds = 0
    sys.setswitchinterval(1e-6)
    try:
        while rounds < case["rounds"] and not broken:
            if not _stress_round(candidate, case, rounds, errors):
                broken += 1
            rounds += 1
            if time.perf_counter() - began > case["budget_s"]:
                break
    finally:
        sys.setswitchinterval(interval)
    return {"rounds": rounds, "broken": broken, "errors": errors[:5]}


def _stress_round(candidate: Any, case: dict[str, Any], round_: int, errors: list[str]) -> bool:
    obj = candidate(*case["args"])
    count = case["threads"]
    plans = [
        eval(case["calls_expr"], {"t": t, "rng": random.Random(SEED + 97 * round_ + t)})  # noqa: S307
        for t in range(count)
    ]
    results: list[list[Any]] = [[] for _ in range(count)]
    failed: list[str] = []
    start = threading.Barrier(count)

    def worker(t: int) -> None:
        try:
            start.wait()
            for method, margs in plans[t]:
                results[t].append(getattr(obj, method)(*margs))
        except BaseException as err:  # report the race as data
            failed.append(f"{type(err).__name__}: {str(err)[:80]}")

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors.extend(failed)
    if failed:
        return False
    space = {"obj": obj, "results": results, "calls": plans}
    try:
        return bool(eval(case["invariant"], space))  # noqa: S307
    except Exception as err:  # the object is in a state its own methods cannot read
        errors.append(f"{type(err).__name__}: {str(err)[:80]}")
        return False


def _relink(
    candidate: Any, job: dict[str, Any], case: dict[str, Any], given: Any
) -> dict[str, Any]:
    """Whether the returned list is made of the input's own nodes, each with its value intact."""
    raw = eval(case["args_expr"], {"n": 0, "rng": random.Random(SEED)})  # noqa: S307
    args, made = given.convert(raw, job)
    values = [node.val for node in made]
    known = {id(node) for node in made}
    returned = given.walk(candidate(*args), 2 * len(made) + 1000)
    return {
        "nodes": len(made),
        "returned": len(returned),
        "new": sum(id(node) not in known for node in returned),
        "changed": sum(node.val != value for node, value in zip(made, values, strict=True)),
    }
