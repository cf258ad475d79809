"""How many runs go on at once in this process, and the ways to run within that cap."""

from __future__ import annotations

import asyncio
import functools
import threading

from bot.config import Settings, get_settings
from bot.content.models import CodeTest, CodingSpec
from bot.sandbox.report import Limits, RunReport
from bot.sandbox.runner import run_tests


def runner_concurrency(settings: Settings | None = None) -> int:
    """How many runs at once (`Settings.runner_concurrency`; the current settings if not given)."""
    return (settings or get_settings()).runner_concurrency


@functools.cache
def _slots(size: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(size)


def run_tests_capped(
    code: str,
    spec: CodingSpec,
    tests: list[CodeTest],
    *,
    limits: Limits | None = None,
    bounds: bool = False,
) -> RunReport:
    """`run_tests` in one of the process's `runner_concurrency()` slots, waiting for a free one.

    Every caller in the process shares the slots: the app's worker threads and async callers
    alike, so the cap counts the processes that really run.
    """
    with _slots(runner_concurrency()):
        return run_tests(code, spec, tests, limits=limits, bounds=bounds)


async def run_tests_async(
    code: str,
    spec: CodingSpec,
    tests: list[CodeTest],
    *,
    limits: Limits | None = None,
    bounds: bool = False,
) -> RunReport:
    """`run_tests_capped` in a worker thread, so the event loop keeps serving meanwhile.

    A cancelled caller stops waiting, but the run finishes in its thread and only then frees
    its slot.
    """
    work = asyncio.get_running_loop().run_in_executor(
        None, functools.partial(run_tests_capped, code, spec, tests, limits=limits, bounds=bounds)
    )
    return await asyncio.shield(work)
