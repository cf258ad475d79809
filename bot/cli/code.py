"""Coding questions: check runs code against a question's examples and hidden tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from bot.cli.common import JsonOpt, RootOpt, app, content_bank, err, out, print_json, shown
from bot.errors import BotError

if TYPE_CHECKING:
    from bot.sandbox import RunReport


@app.command()
def check(
    question: Annotated[str, typer.Option("--question", help="Question id.")],
    code_file: Annotated[
        Path | None, typer.Option("--code-file", help="Python file with your solution.")
    ] = None,
    reference: Annotated[
        bool, typer.Option("--reference", help="Run the question's reference solution.")
    ] = False,
    examples_only: Annotated[bool, typer.Option("--examples-only")] = False,
    root: RootOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run code against a coding question's examples, hidden tests and bounds."""
    from bot.sandbox import run_tests, summary

    q = content_bank(root).question(question)
    if q.coding is None:
        raise BotError(f"'{q.id}' is a {q.kind} question, not a coding one")
    if reference == (code_file is not None):
        raise BotError("give exactly one of --code-file and --reference")
    code = q.coding.reference_solution if code_file is None else _read_code(code_file)
    tests = list(q.coding.examples) + ([] if examples_only else list(q.coding.tests))
    report = run_tests(code, q.coding, tests, bounds=not examples_only)
    if as_json:
        print_json({**report.to_dict(), "sandbox": summary()})
    else:
        _print_run(report)
    if report.error or report.passed != report.total:
        raise typer.Exit(1)


def _read_code(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BotError(f"cannot read {path}: {error}") from None


def _print_run(report: RunReport) -> None:
    if report.error:
        out.print("[red]The code did not load:[/red] " + escape(shown(report.error)))
        return
    for r in report.results:
        colour = "green" if r.status == "passed" else "red"
        detail = r.error or (f"got {r.actual}" if r.status == "failed" else "")
        out.print(
            f"[{colour}]{r.status:8}[/{colour}] "
            + escape(shown(f"{r.name} ({r.category}) {r.seconds * 1000:.1f} ms {detail}")),
            highlight=False,
        )
    out.print(f"{report.passed}/{report.total} passed in {report.seconds:.2f} s")
    if report.growth is not None:
        g = report.growth
        out.print(
            f"measured growth per {g.unit}: ~{g.label} (degree {g.candidate:.2f}; the reference's "
            f"{g.reference:.2f}) over n = {', '.join(f'{n:,}' for n in g.sizes)}",
            highlight=False,
        )
    missing = [name.replace("_", " ") for name, p in report.protections.items() if not p["active"]]
    if missing:
        err.print(f"[yellow]unprotected here:[/yellow] {', '.join(missing)} (details: --json)")
