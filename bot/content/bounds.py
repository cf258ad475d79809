"""What a coding question enforces beyond right answers: the bounds its prompt states.

Declared per question under `coding.bounds` and checked on every Submit (bot/sandbox/bounds.py):

- `scaling`: the candidate's code and the reference solution run in the same sandbox on inputs
  of growing size; the code fails when its time grows clearly faster than the reference's;
- `memory`: peak allocation of the candidate's code against the reference's on one large input;
- `stress`: many threads call one object at once; no call may raise and the invariant must hold;
- `relink`: with linked-list input, the returned nodes must be the input's own nodes, values intact;
- `rules`: constraints on the code's syntax tree (forbidden calls, methods, imports, names).

Inputs are Python expressions of `n` (the size) and `rng` (a `random.Random` seeded the same way
for the candidate and the reference), evaluated in the sandbox.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from bot.content.fields import Strict, Text

GrowthClass = Literal["1", "log n", "n", "n log n", "n^2"]
# The polynomial degree of each class: timing tells degrees apart, not logarithmic factors.
DEGREE: dict[str, int] = {"1": 0, "log n": 0, "n": 1, "n log n": 1, "n^2": 2}


class Workload(Strict):
    """The input of size `n` a check runs the code on."""

    args_expr: Text = Field(
        description="Expression of n and rng: the function's arguments (or the constructor's)."
    )
    calls_expr: Text | None = Field(
        default=None,
        description="Class questions: expression of n and rng giving [method, args] pairs.",
    )
    repeat: int = Field(
        default=1,
        ge=1,
        le=10000,
        description="Function questions: calls per measurement, on the same arguments (for code "
        "too fast to time once; only for functions that do not change their input).",
    )


class ScalingBound(Workload):
    """Time against the reference's on sizes that double (e.g. n, 2n, 4n, 8n)."""

    sizes: list[int] = Field(min_length=3, max_length=6, description="Ascending sizes n.")
    growth: GrowthClass = Field(
        description="How the reference's time grows per unit (call or operation) with n."
    )
    unit: Literal["call", "operation"] = Field(
        default="call",
        description="'operation': the workload makes about n method calls, and growth is per call.",
    )
    asks: Text = Field(description="What the prompt asks, for the message: 'O(n) time'.")

    @model_validator(mode="after")
    def _ascending(self) -> ScalingBound:
        if any(b <= a for a, b in zip(self.sizes, self.sizes[1:], strict=False)):
            raise ValueError("sizes must be ascending")
        return self


class MemoryBound(Workload):
    """Peak allocation during the work, against the reference's on the same input."""

    n: int = Field(gt=0, description="The size to measure at.")
    ratio: float = Field(default=4.0, gt=1, description="Fail when the peak is this many times...")
    floor_bytes: int = Field(default=256 * 1024, gt=0, description="...and this much larger.")
    asks: Text = Field(description="What the prompt asks, for the message: 'O(1) extra memory'.")


class StressBound(Strict):
    """Threads that call one shared object at the same time (class questions)."""

    args: list[Any] = Field(description="Constructor arguments of the shared object.")
    calls_expr: Text = Field(
        description="Expression of t (the thread's number) and rng: that thread's [method, args]."
    )
    threads: int = Field(default=8, ge=2, le=12)
    rounds: int = Field(
        default=50,
        ge=1,
        le=500,
        description="Fresh objects, one after another, at most; the check stops at the first "
        "that goes wrong, or after STRESS_BUDGET_S (bot/sandbox/bounds.py).",
    )
    invariant: Text = Field(
        description="Expression of obj, calls and results (per thread: its [method, args] "
        "pairs and each call's return value) that must be true after the threads finish."
    )
    asks: Text = Field(description="What the prompt asks: 'safe under concurrent threads'.")


class Rule(Strict):
    """A constraint on the code's syntax tree, with the message shown when it is broken."""

    kind: Literal["call", "method", "import", "name"] = Field(
        description="call: f(...) of a name; method: x.m(...); import: a module; name: any use."
    )
    names: list[Text] = Field(min_length=1)
    args: list[Any] | None = Field(
        default=None, description="Only calls with exactly these literal positional arguments."
    )
    require: bool = Field(default=False, description="The code must contain one, not avoid it.")
    message: Text = Field(description="Names the rule, e.g. 'no pop(0): pop from the end only'.")


class Bounds(Strict):
    scaling: ScalingBound | None = None
    memory: MemoryBound | None = None
    stress: StressBound | None = None
    relink: Workload | None = Field(
        default=None, description="Input for the relink check (questions with linked-list input)."
    )
    rules: list[Rule] = Field(default_factory=list)


class LinkedIO(Strict):
    """Linked-list input: the test's plain lists become chains of the given `ListNode` class, and
    a returned `ListNode` (or None) is read back as the list of its values."""

    arg: int = Field(ge=0, description="Which positional argument.")
    shape: Literal["chain", "chains"] = Field(description="One list, or a list of lists.")
