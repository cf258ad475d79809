"""Run Python code against a coding question's tests in a separate, limited process.

Every run starts the harness (`python -I -S -c <harness source>`) with a scrubbed environment,
resource limits (CPU, memory, file size, open files, no core dumps), a wall-clock limit per test
and a cap on printed output. As root on Linux it also gets, each probed once and used when it works:

- its own network namespace (`unshare --net`, no interface up: no connection, not even loopback),
- its own PID namespace with a fresh /proc (`unshare --pid --fork --mount-proc`), so it cannot see
  other processes and everything it starts dies with it,
- its own mount namespace (set up in the child before exec) with a small private tmpfs as /tmp,
  /var/tmp, /dev/shm and /run/lock, and the question bank, knowledge base, labelled answers,
  data directory and .env files hidden,
- an unprivileged uid of its own, taken from a small pool (one per concurrent run), so RLIMIT_NPROC
  applies, nothing outside its /tmp is writable, and whatever it leaves behind is found and killed.

`protections()` says which of these this machine gives. A test that hangs or kills the interpreter
is recorded, and the remaining tests go on in a new process, so one bad case never hides the others.
Return values are compared here, in the parent: the child never receives the expected values.
The harness shares its process with the candidate's code, so this protects the machine, not the
score: code that sets out to fake its own results can, but only for the person who wrote it.
"""

from bot.sandbox.concurrency import run_tests_async, run_tests_capped, runner_concurrency
from bot.sandbox.report import Limits, Protection, RunReport, SandboxError, Status, TestResult
from bot.sandbox.runner import run_tests
from bot.sandbox.safeguards import protections, summary

__all__ = [
    "Limits",
    "Protection",
    "RunReport",
    "SandboxError",
    "Status",
    "TestResult",
    "protections",
    "run_tests",
    "run_tests_async",
    "run_tests_capped",
    "runner_concurrency",
    "summary",
]
