"""The `allclose` compare mode: numbers within a tolerance, arrays of the same shape.

Runs in the parent on what the harness sent back, where a numpy array is already nested lists and
NaN and the infinities are the strings 'nan', 'inf' and '-inf' (see `bot.sandbox.harness._plain`).
A number matches when |got - expected| <= atol + rtol * |expected| (numpy.allclose's rule); NaN
matches only NaN and an infinity only the same infinity; booleans, strings and None must be equal.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
Path = tuple[int | str, ...]


def _number(value: Any) -> float | None:
    """The value as a float when it is a number (or NaN/infinity as sent back), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value in SPECIAL:
        return SPECIAL[value]
    return None


def shape(value: Any) -> tuple[int, ...] | None:
    """The shape of a number or a rectangular nested list of numbers; None for anything else."""
    if _number(value) is not None:
        return ()
    if not isinstance(value, list):
        return None
    inner = {shape(item) for item in value}
    if not value:
        return (0,)
    if len(inner) != 1 or None in inner:
        return None
    (rest,) = inner
    assert rest is not None
    return (len(value), *rest)


def _at(path: Path) -> str:
    return "at " + "".join(f"[{step!r}]" for step in path) + ": " if path else ""


def _shape_text(dims: tuple[int, ...] | None) -> str:
    if dims is None:
        return "a ragged or non-numeric value"
    return f"shape {dims}" if dims else "a number"


def _show(value: Any) -> str:
    return value if isinstance(value, str) and value in SPECIAL else repr(value)


def _numbers_differ(got: float, want: float, rtol: float, atol: float) -> bool:
    if math.isnan(want) or math.isnan(got):
        return not (math.isnan(want) and math.isnan(got))
    if math.isinf(want) or math.isinf(got):
        return got != want
    return abs(got - want) > atol + rtol * abs(want)


def _mismatches(got: Any, want: Any, path: Path, rtol: float, atol: float) -> Iterator[str]:
    """Every difference, in order, as a message naming where it is."""
    want_shape = shape(want)
    if want_shape and shape(got) != want_shape:  # an array (not a single number) of another shape
        yield f"{_at(path)}{_shape_text(shape(got))}, expected shape {want_shape}"
        return
    want_number, got_number = _number(want), _number(got)
    if want_number is not None:
        if got_number is None:
            yield f"{_at(path)}got {got!r}, expected a number ({_show(want)})"
        elif _numbers_differ(got_number, want_number, rtol, atol):
            limits = f"rtol {rtol:g}, atol {atol:g}"
            yield f"{_at(path)}got {_show(got)}, expected {_show(want)} ({limits})"
        return
    if isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            yield f"{_at(path)}{len(got)} items, expected {len(want)}"
            return
        for index, (g, w) in enumerate(zip(got, want, strict=True)):
            yield from _mismatches(g, w, (*path, index), rtol, atol)
        return
    if isinstance(want, dict) and isinstance(got, dict) and got.keys() == want.keys():
        for key in want:
            yield from _mismatches(got[key], want[key], (*path, key), rtol, atol)
        return
    if got != want:
        yield f"{_at(path)}got {got!r}, expected {want!r}"


def close_mismatch(got: Any, want: Any, *, rtol: float, atol: float) -> str | None:
    """None when `got` matches `want` within the tolerance; else what differs, in one line."""
    found = _mismatches(got, want, (), rtol, atol)
    first = next(found, None)
    if first is None:
        return None
    more = sum(1 for _ in found)
    tail = f"; {more} more difference{'s' if more > 1 else ''}" if more else ""
    return first + tail
