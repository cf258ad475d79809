"""Run Python code against a coding question's tests in a separate, limited process.

Every run starts the harness (`python -I -S -c <harness source>`) with a scrubbed environment,
resource limits (CPU, memory, file size, open files, no core dumps, no new privileges), a
wall-clock limit per test, a cap on printed output and a cap on the results sent back. On top of
that, the first of these that works on this machine (probed once per process):

- bubblewrap, as root or as a normal user (`bot.sandbox.bubblewrap`): new user, PID, network, IPC,
  UTS and cgroup namespaces, no capabilities, no new user namespaces, and an allow-list
  filesystem (`bot.sandbox.allow_list`) with the allowed packages (`bot.sandbox.packages`) bound
  at a fixed path; as root, the run first drops to a uid of its own (`bot.sandbox.uid_pool`);
- as root only: unshare's network and PID namespaces, a private mount namespace with the content
  hidden (`bot.sandbox.child`) and a uid of its own;
- nothing more: the limits alone, which `make run` and `check --json` say plainly.

`protections()` says which of these this machine gives, `summary()` in one line. A test that
hangs or kills the interpreter is recorded, and the remaining tests go on in a new process, so
one bad case never hides the others. Return values are compared here, in the parent: the child
never receives the expected values. The harness shares its process with the candidate's code, so
this protects the machine, not the score: code that sets out to fake its own results can, but
only for the person who wrote it.
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
