"""Runs inside the sandboxed child process: calls the candidate's code on each test's input.

Kept free of project imports: the parent passes this file's source with `python -I -S -c`, so
it runs from the child's bare working directory under whichever interpreter the sandbox chose.
It reads one JSON job from stdin (the code and each test's input, never the expected values) and
writes one JSON line per event to the file descriptor named on the command line. The parent
compares return values with the expected ones, so the expected values of hidden tests never reach
the candidate's process. The candidate's prints go through a capped stream to the output sink.
The job also carries the import guard (`bot.sandbox.imports`) and the roots of the allowed packages;
a numpy array or scalar that the code returns is sent back as (nested lists of) plain numbers.

`same` is also imported by the parent (bot.sandbox) to compare results.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import sys
import time
import traceback
import types
from collections.abc import Callable
from typing import IO, Any


def _plain(value: Any) -> Any:
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        value = value.tolist()  # an array or a numpy scalar: compared as nested lists of numbers
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
    """Whether a returned value matches the expected one under the question's compare mode."""
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


class CappedSink:
    """The candidate's stdout and stderr.

    The run keeps the first `keep` bytes in the output file and drops the rest; a test (or the
    code's import) that prints more than `limit` bytes is stopped by `on_overflow`.
    """

    def __init__(self, fd: int, keep: int, limit: int) -> None:
        self.fd, self.keep, self.limit = fd, max(keep, 0), limit
        self.printed = 0  # by the current test
        self.on_overflow: Callable[[], None] = lambda: None

    def write(self, data: bytes) -> None:
        self.printed += len(data)
        kept = data[: self.keep]
        try:
            while kept:
                done = os.write(self.fd, kept)
                self.keep -= done
                kept = kept[done:]
        except OSError:  # the file size limit, reached by writing to fd 1 directly
            self.keep = 0
        if self.printed > self.limit:
            self.on_overflow()


class CappedStream(io.TextIOBase):
    """A text stream over a CappedSink; unbuffered, so prints before a crash are kept."""

    def __init__(self, sink: CappedSink) -> None:
        super().__init__()
        self._sink = sink

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._sink.write(text.encode("utf-8", "backslashreplace"))
        return len(text)


def _modules(job: dict[str, Any]) -> dict[str, Any]:
    """The child-side modules the job ships (bot/sandbox/given.py, probes.py), loaded by name."""
    loaded: dict[str, Any] = {}
    for name, source in job.get("modules", {}).items():
        module = types.ModuleType(name)
        exec(compile(source, f"{name}.py", "exec"), module.__dict__)  # noqa: S102
        loaded[name] = module
    return loaded


def _call(
    namespace: dict[str, Any], job: dict[str, Any], case: dict[str, Any], modules: dict[str, Any]
) -> Any:
    if "probe" in case:  # a bound's measurement, not a test
        return modules["probes"].run_probe(namespace, job, case, modules["given"])
    target = namespace[job["entry_point"]]
    args = eval(case["args_expr"], {}) if case.get("args_expr") else case["args"]  # noqa: S307
    if job["style"] == "function":
        if "given" in modules:  # linked-list input or an argument changed in place
            return modules["given"].call(target, args, job)
        return target(*args)
    obj = target(*args)
    return [getattr(obj, method)(*margs) for method, margs in case["calls"]]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _describe(err: BaseException, job: dict[str, Any]) -> str:
    if isinstance(err, OSError) and err.errno == errno.EFBIG:
        return f"file size limit exceeded ({job['file_bytes']} bytes per file): {err}"
    if isinstance(err, BlockingIOError) and err.errno == errno.EAGAIN:
        limit = job["processes"]
        return f"BlockingIOError: {err} (the limit of {limit} processes and threads was reached)"
    if isinstance(err, MemoryError):
        return "MemoryError: the memory limit was reached"
    try:
        return f"{type(err).__name__}: {_short(str(err), 200)}"
    except BaseException:  # an exception class of the code's own whose __str__ fails too
        return type(err).__name__


def _returned(actual: Any, limit: int) -> dict[str, Any]:
    value = json.dumps(_plain(actual), default=repr)
    if len(value) > limit:
        raise ValueError(f"the return value is too large to compare (over {limit} bytes of JSON)")
    return {"status": "returned", "value": json.loads(value)}


def _emit(out: IO[str], record: dict[str, Any]) -> None:
    out.write(json.dumps(record) + "\n")
    out.flush()


def _only_the_harness(pid: int) -> None:
    """A process the code forked must not come back here and report results of its own."""
    if os.getpid() != pid:
        os._exit(0)


def run(job: dict[str, Any], out: IO[str], sink: CappedSink) -> None:
    modules = _modules(job)
    namespace = {"__name__": "solution"}
    if "given" in modules:
        namespace.update(modules["given"].names(job))
    pid, state = os.getpid(), {"index": -1, "began": time.perf_counter()}

    def overflow() -> None:
        _only_the_harness(pid)
        seconds = round(time.perf_counter() - state["began"], 6)
        limit = f"more than {sink.limit // 1024} KB"
        what = "the test" if state["index"] >= 0 else "the code, while loading,"
        error = f"output limit exceeded: {what} printed {limit}, so it was stopped"
        _emit(out, {"index": state["index"], "status": "error", "error": error, "seconds": seconds})
        os._exit(0)

    sink.on_overflow = overflow
    try:
        exec(compile(job["code"], "solution.py", "exec"), namespace)  # noqa: S102
        _only_the_harness(pid)
        if not callable(namespace.get(job["entry_point"])):
            raise NameError(f"no function or class named '{job['entry_point']}' in the code")
    except BaseException as err:  # the candidate's module failed to load
        _only_the_harness(pid)
        detail = "".join(traceback.format_exception_only(type(err), err)).strip()
        _emit(out, {"index": -1, "status": "error", "error": detail})
        return
    for index in range(job["start"], len(job["tests"])):
        _emit(out, {"index": index, "status": "started"})
        sink.printed, state["index"], state["began"] = 0, index, time.perf_counter()
        record: dict[str, Any] = {"index": index}
        try:
            actual = _call(namespace, job, job["tests"][index], modules)
            _only_the_harness(pid)
            record.update(_returned(actual, job["value_bytes"]))
        except BaseException as err:  # report the candidate's exception as data
            _only_the_harness(pid)
            record.update(status="error", error=_describe(err, job))
        record["seconds"] = round(time.perf_counter() - state["began"], 6)
        _emit(out, record)


def _allow_imports(setup: dict[str, Any] | None) -> None:
    """Run the parent's import guard (bot.sandbox.imports) and add the allowed packages' roots."""
    if setup:
        scope: dict[str, Any] = {"__name__": "import_guard"}
        exec(compile(setup["guard"], "import_guard.py", "exec"), scope)  # noqa: S102
        scope["install"](setup["roots"], setup["allowed"])


def _confine(job: dict[str, Any]) -> None:
    """Before the code loads: the allowed packages on sys.path, and the process limit where the
    runner could not set it (inside bubblewrap's user namespace, as a normal user)."""
    sys.path[:0] = job["paths"]
    if job["processes_inside"]:
        import resource

        limit = job["processes"]
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))


def main() -> None:
    job = json.loads(sys.stdin.read())
    _confine(job)
    out = os.fdopen(int(sys.argv[1]), "w")
    os.dup2(1, 2)  # the code's stderr joins its stdout; fd 2 was the runner's own log
    sink = CappedSink(1, job["output_keep"], job["output_limit"])
    for name in ("stdout", "stderr", "__stdout__", "__stderr__"):
        setattr(sys, name, CappedStream(sink))
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    _allow_imports(job.get("imports"))
    run(job, out, sink)
    out.close()
    os._exit(0)


if __name__ == "__main__":
    main()
