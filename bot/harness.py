"""Runs inside the sandboxed child process: executes candidate code against test cases.

Kept free of project imports so that it runs in isolated mode (`python -I`) from a bare
temporary directory. Reads one JSON job from stdin and writes one JSON line per test to the
file descriptor named on the command line, so the candidate's own prints cannot corrupt results.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import traceback
from typing import IO, Any


def _plain(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return repr(value)
    return value


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return bool(a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a))
    return bool(a == b)


def same(actual: Any, expected: Any, mode: str) -> bool:
    actual, expected = _plain(actual), _plain(expected)
    if mode == "float":
        return _close(actual, expected)
    if mode in ("unordered", "unordered_nested") and isinstance(actual, list):
        if not isinstance(expected, list):
            return False
        if mode == "unordered_nested":
            actual = [sorted(x, key=repr) if isinstance(x, list) else x for x in actual]
            expected = [sorted(x, key=repr) if isinstance(x, list) else x for x in expected]
        return bool(sorted(actual, key=repr) == sorted(expected, key=repr))
    return bool(actual == expected)


def _call(namespace: dict[str, Any], job: dict[str, Any], case: dict[str, Any]) -> Any:
    target = namespace[job["entry_point"]]
    args = eval(case["args_expr"], {}) if case.get("args_expr") else case["args"]
    if job["style"] == "function":
        return target(*args)
    obj = target(*args)
    return [getattr(obj, method)(*margs) for method, margs in case["calls"]]


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def run(job: dict[str, Any], out: IO[str]) -> None:
    namespace = {"__name__": "solution"}
    try:
        exec(compile(job["code"], "solution.py", "exec"), namespace)  # noqa: S102
        if not callable(namespace.get(job["entry_point"])):
            raise NameError(f"no function or class named '{job['entry_point']}' in the code")
    except BaseException as err:  # the candidate's module failed to load
        detail = "".join(traceback.format_exception_only(type(err), err)).strip()
        out.write(json.dumps({"index": -1, "status": "error", "error": detail}) + "\n")
        out.flush()
        return
    for index in range(job["start"], len(job["tests"])):
        case = job["tests"][index]
        out.write(json.dumps({"index": index, "status": "started"}) + "\n")
        out.flush()
        began = time.perf_counter()
        record: dict[str, Any] = {"index": index}
        try:
            actual = _call(namespace, job, case)
            ok = same(actual, case["expected"], job["compare"])
            record.update(status="passed" if ok else "failed", actual=_short(_plain(actual)))
        except BaseException as err:  # report the candidate's exception as data
            name = type(err).__name__
            record.update(status="error", error=f"{name}: {_short(str(err), 200)}")
        record["seconds"] = round(time.perf_counter() - began, 6)
        out.write(json.dumps(record) + "\n")
        out.flush()


def main() -> None:
    job = json.loads(sys.stdin.read())
    out = os.fdopen(int(sys.argv[1]), "w")
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    run(job, out)
    out.close()
    os._exit(0)


if __name__ == "__main__":
    main()
