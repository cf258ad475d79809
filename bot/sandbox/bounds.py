"""A coding question's bounds as checks: probes measured in the sandbox, judged here.

Each probe is one more case of a run, after the tests, with its own result row (`TestResult.check`):
the child measures (bot/sandbox/probes.py) and this module decides, with a message that names the
bound. Structure rules are checked here on the code's syntax tree (bot/sandbox/rules.py). A failed
bound counts like a failed hidden test.

The scaling check compares growth, not seconds: the excess of the candidate's growth over the
reference's, as a power of n, is the slope of log(candidate time / reference time) against log n,
so a machine that is uniformly slower or busier changes neither.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.content.bounds import DEGREE, MemoryBound, ScalingBound, StressBound, Workload
from bot.content.models import CodingSpec
from bot.sandbox.report import Growth, Status, TestResult
from bot.sandbox.rules import broken

EXCESS = 0.5  # fail when time grows faster than the reference's by n^EXCESS or more
DOUBT = 0.25  # a pass with this much excess is measured again, and must pass twice
BUDGET_S = 2.0  # the candidate's CPU time in the scaling check, before it stops early
STOP_LAG = 16.0  # ...or once it has fallen this many times further behind the reference
STRESS_BUDGET_S = 1.0  # rounds of threads on fresh objects, until one goes wrong or this is spent
LAG_ALONE = 50.0  # over the budget and this many times slower than the reference: too slow
SCALING_LIMIT_S = 20.0  # the probe's clock limit (both codes, inputs; a busy machine's wait)
PROBE_LIMIT_S = 6.0
UNREADABLE = "the check's measurements could not be read"


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str
    growth: Growth | None = None


@dataclass(frozen=True)
class Probe:
    """One bound measured in the child: what to send, and how to judge what comes back."""

    check: str
    name: str
    category: str
    time_limit_s: float
    payload: dict[str, Any]
    judge: Callable[[Any], Verdict]


def probes(spec: CodingSpec) -> list[Probe]:
    """The probes of a question's bounds, in a fixed order."""
    bounds, found = spec.bounds, []
    if bounds.scaling is not None:
        found.append(_scaling_probe(bounds.scaling))
    if bounds.memory is not None:
        memory = bounds.memory
        payload = {"probe": "memory", **_workload(memory), "n": memory.n, "budget_s": BUDGET_S}
        judge = partial(judge_memory, memory)
        found.append(
            Probe("memory", "peak memory", _category(memory.asks), PROBE_LIMIT_S, payload, judge)
        )
    if bounds.stress is not None:
        stress = bounds.stress
        payload = {"probe": "stress", **stress.model_dump(exclude={"asks"})}
        payload["budget_s"] = STRESS_BUDGET_S
        judge = partial(judge_stress, stress)
        found.append(
            Probe(
                "threads", "threads at once", _category(stress.asks), PROBE_LIMIT_S, payload, judge
            )
        )
    if bounds.relink is not None:
        payload = {"probe": "relink", **_workload(bounds.relink)}
        category = _category("relink the given nodes")
        found.append(
            Probe("relink", "nodes relinked", category, PROBE_LIMIT_S, payload, judge_relink)
        )
    return found


def rule_results(code: str, spec: CodingSpec, first_index: int) -> list[TestResult]:
    """A result row per structure rule: passed, or failed with the rule's message and where."""
    rows = []
    for offset, rule in enumerate(spec.bounds.rules):
        where = broken(code, rule)
        status: Status = "passed" if where is None else "failed"
        error = None if where is None else f"{rule.message} ({where})"
        name = "rule: " + (("uses " if rule.require else "no ") + ", ".join(rule.names))
        rows.append(
            TestResult(
                first_index + offset,
                name,
                "bound: structure",
                status,
                error=error,
                hidden=True,
                check="rule",
            )
        )
    return rows


def _category(asks: str) -> str:
    return f"bound: {asks}"


def _workload(work: Workload) -> dict[str, Any]:
    return work.model_dump(include={"args_expr", "calls_expr", "repeat"})


def _scaling_probe(scaling: ScalingBound) -> Probe:
    payload = {
        "probe": "scaling",
        **_workload(scaling),
        "sizes": scaling.sizes,
        "budget_s": BUDGET_S,
        "stop_lag": STOP_LAG,
    }
    judge = partial(judge_scaling, scaling)
    return Probe(
        "scaling", "time as n grows", _category(scaling.asks), SCALING_LIMIT_S, payload, judge
    )


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys against xs."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0


def measured_growth(bound: ScalingBound, rows: list[list[float]]) -> tuple[Growth, float]:
    """The growth the rows show (per unit), and the candidate's excess over the reference."""
    xs = [math.log(n) for n, _, _ in rows]
    excess = slope(xs, [math.log(c / r) for _, c, r in rows])
    shift = 1 if bound.unit == "operation" else 0
    reference = slope(xs, [math.log(r) for _, _, r in rows]) - shift
    growth = Growth(
        unit=bound.unit,
        asks=bound.asks,
        candidate=round(DEGREE[bound.growth] + excess, 2),
        reference=round(reference, 2),
        sizes=[int(n) for n, _, _ in rows],
    )
    return growth, excess


def judge_scaling(bound: ScalingBound, facts: Any) -> Verdict:
    rows = _rows(facts)
    if rows is None:
        return Verdict(False, UNREADABLE)
    asks = f"the question asks for {bound.asks}"
    complete = rows[:-1] if facts.get("over") else rows  # a run cut short gives a lower bound
    smaller = facts.get("smaller") if isinstance(facts.get("smaller"), int) else 0
    # The growth over every complete size, else over the question's own sizes alone: either
    # may show the excess (small sizes can hide it; two large sizes alone are noisy).
    spans = [span for span in (complete, complete[smaller:]) if len(span) >= 2]
    read = [(*measured_growth(bound, span), span) for span in spans]
    over = [item for item in read if item[1] >= EXCESS]
    if over:
        growth, _, span = over[0]
        per = "per operation " if bound.unit == "operation" else ""
        first, last = span[0][0], span[-1][0]
        message = f"time {per}grows ~{growth.label} between n={first:,.0f} and n={last:,.0f}"
        return Verdict(False, f"{message}; {asks}", growth)
    # With sizes below the question's (the probe's fallback) or too few sizes, a lag far beyond
    # the reference's also fails: small sizes can hide a growth that the question's sizes show.
    n, cand, ref = worst = max(rows, key=lambda row: row[1] / row[2])
    if (len(complete) < 2 or smaller) and cand / ref >= LAG_ALONE:
        took = "over " if worst is rows[-1] and facts.get("over") else ""
        message = (
            f"took {took}{cand:.2f} s at n={n:,.0f}, where a solution within the bound takes "
            f"{ref * 1000:.1f} ms; {asks}"
        )
        return Verdict(False, message)
    return Verdict(True, "", read[0][0] if read else None)


def doubtful(spec: CodingSpec, growth: Growth | None) -> bool:
    """A passed scaling check whose excess is close enough to the limit that one measurement on
    a busy machine cannot decide it (the runner then measures again)."""
    scaling = spec.bounds.scaling
    if scaling is None or growth is None:
        return False
    return DOUBT <= growth.candidate - DEGREE[scaling.growth] < EXCESS  # a fail is decided


def scaling_probes(spec: CodingSpec) -> list[Probe]:
    """The scaling check alone, for a second measurement."""
    return [_scaling_probe(spec.bounds.scaling)] if spec.bounds.scaling is not None else []


def _rows(facts: Any) -> list[list[float]] | None:
    rows = facts.get("rows") if isinstance(facts, dict) else None
    if not isinstance(rows, list) or not rows:
        return None
    try:
        clean = [[float(n), float(c), float(r)] for n, c, r in rows]
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) and v > 0 for row in clean for v in row):
        return None
    return clean


def judge_memory(bound: MemoryBound, facts: Any) -> Verdict:
    try:
        cand, ref = int(facts["candidate"]), int(facts["reference"])
    except (TypeError, KeyError, ValueError):
        return Verdict(False, UNREADABLE)
    if cand <= bound.ratio * ref or cand - ref <= bound.floor_bytes:
        return Verdict(True, "")
    message = (
        f"peak memory {_size(cand)} at n={bound.n:,} against {_size(ref)} for a solution within "
        f"the bound; the question asks for {bound.asks}"
    )
    return Verdict(False, message)


def judge_stress(bound: StressBound, facts: Any) -> Verdict:
    try:
        broken_runs, rounds = int(facts["broken"]), int(facts["rounds"])
        errors = [str(e) for e in facts["errors"]]
    except (TypeError, KeyError, ValueError):
        return Verdict(False, UNREADABLE)
    if broken_runs == 0:
        return Verdict(True, "")
    what = f"a call raised {errors[0]}" if errors else "the object's state was inconsistent after"
    message = (
        f"with {bound.threads} threads calling at once, run {rounds} went wrong ({what}); "
        f"the question asks for {bound.asks}"
    )
    return Verdict(False, message)


def judge_relink(facts: Any) -> Verdict:
    try:
        new, changed = int(facts["new"]), int(facts["changed"])
    except (TypeError, KeyError, ValueError):
        return Verdict(False, UNREADABLE)
    if new == 0 and changed == 0:
        return Verdict(True, "")
    done = []
    if new:
        done.append(f"the result holds {new} nodes that were not in the input")
    if changed:
        done.append(f"{changed} input nodes had their values changed")
    return Verdict(False, "; ".join(done) + ": relink the given nodes instead")


def _size(n_bytes: int) -> str:
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} B"
