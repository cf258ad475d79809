"""Content commands: validate, schema, questions, coverage, config."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bot.cli.common import JsonOpt, RootOpt, app, content_bank, err, out, print_json, shown
from bot.config import get_settings
from bot.content import Question
from bot.content.bank import ContentBank
from bot.content.select import select_questions
from bot.errors import BotError, ContentError


@app.command()
def validate(root: RootOpt = None, as_json: JsonOpt = False) -> None:
    """Validate every question, rubric, kb document, plan and labelled answer; list every error."""
    try:
        summary = content_bank(root).summary()
    except ContentError as error:
        if as_json:
            print_json({"ok": False, "errors": [vars(i) for i in error.issues]})
        else:
            sys.stdout.write("".join(f"{shown(str(issue))}\n" for issue in error.issues))
            sys.stdout.flush()
            err.print(f"[red]{len(error.issues)} error(s)[/red]")
        raise typer.Exit(1) from None
    if as_json:
        print_json({"ok": True, "errors": [], **summary})
        return
    _print_summary(summary)


def _print_summary(summary: dict[str, Any]) -> None:
    out.print(f"[green]Content OK[/green]: {summary['questions']} questions, 0 errors")
    out.print("  by kind:       " + _counts(summary["by_kind"]))
    out.print("  by competency: " + _counts(summary["by_competency"]))
    out.print("  by difficulty: " + _counts(summary["by_difficulty"]))
    out.print(
        f"  rubrics: {summary['rubrics']}   kb documents: {summary['kb_docs']} "
        f"({summary['kb_words']} words)   labelled answers: {summary['labelled_answers']} "
        f"for {summary['labelled_questions']} questions"
    )


def _counts(counts: dict[Any, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"


@app.command()
def schema(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write the files.")] = Path(
        "schemas"
    ),
) -> None:
    """Write JSON Schema files for question, rubric and labelled-answer YAML (for editors)."""
    from bot.content.export import write_json_schemas

    try:
        written = write_json_schemas(out_dir)
    except OSError as error:
        raise BotError(f"cannot write to {out_dir}: {error.strerror or error}") from None
    for path in written:
        out.print(shown(f"wrote {path}"), markup=False, highlight=False)


def _question_row(q: Question, bank: ContentBank) -> dict[str, Any]:
    return {
        "id": q.id,
        "title": q.title,
        "kind": q.kind,
        "competency": q.competency,
        "difficulty": q.difficulty,
        "tags": list(q.tags),
        "frequency": q.interview_frequency,
        "rubric": q.rubric,
        "reference": q.reference,
        "reference_path": bank.docs[q.reference].path,
        "path": bank.question_paths[q.id],
    }


@app.command()
def questions(
    kind: Annotated[str | None, typer.Option(help="coding, system_design, ...")] = None,
    competency: Annotated[str | None, typer.Option(help="C1..C6 or BH")] = None,
    tag: Annotated[str | None, typer.Option(help="A topic tag, e.g. rag")] = None,
    root: RootOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List questions, optionally filtered."""
    bank = content_bank(root)
    chosen = select_questions(bank.questions, kind=kind, competency=competency, tag=tag)
    chosen.sort(key=lambda q: (q.kind, q.competency, q.difficulty, q.id))
    if as_json:
        print_json([_question_row(q, bank) for q in chosen])
        return
    table = Table("id", "kind", "comp", "diff", "tags", "title")
    table.columns[0].no_wrap = True
    for q in chosen:
        table.add_row(q.id, q.kind, q.competency, str(q.difficulty), ",".join(q.tags), q.title)
    out.print(table)
    out.print(f"{len(chosen)} of {len(bank.questions)} questions")


@app.command()
def coverage(root: RootOpt = None, as_json: JsonOpt = False) -> None:
    """Check the bank against question_bank/coverage.yaml: topics, counts, difficulty spread."""
    from bot.content.bank import COVERAGE_FILE
    from bot.content.coverage import coverage_report, load_spec

    bank = content_bank(root)
    report = coverage_report(bank, load_spec(bank.root / COVERAGE_FILE))
    if as_json:
        print_json(report)
    else:
        _print_coverage(report)
    if not report["ok"]:
        raise typer.Exit(1)


def _print_coverage(report: dict[str, Any]) -> None:
    counts, targets = report["counts"], report["targets"]
    out.print("counts: " + ", ".join(f"{k} {v}/{targets.get(k, '-')}" for k, v in counts.items()))
    for kind, levels in report["difficulty"].items():
        out.print(f"difficulty {kind}: " + _counts(levels))
    for kind, table in report["items"].items():
        out.print(
            f"[bold]{kind}[/bold]: {sum(bool(v) for v in table.values())}/{len(table)} "
            "items covered"
        )
        _print_items(table)
    for section, table in report["roadmap"].items():
        covered = sum(bool(v) for v in table.values())
        out.print(f"[bold]roadmap: {section}[/bold]: {covered}/{len(table)} topics covered")
        _print_items(table)
    for problem in report["problems"]:
        out.print(f"[red]problem:[/red] {problem}")
    out.print("[green]coverage OK[/green]" if report["ok"] else "[red]coverage incomplete[/red]")


def _print_items(table: dict[str, list[str]]) -> None:
    for item, ids in table.items():
        mark = "[green]ok[/green]" if ids else "[red]MISSING[/red]"
        out.print(f"  {mark} {item}: {', '.join(ids)}", highlight=False)


@app.command()
def config(as_json: JsonOpt = False) -> None:
    """Show the effective settings, secrets masked."""
    shown = get_settings().shown()
    if as_json:
        print_json(shown)
        return
    table = Table("setting", "value")
    for name, value in shown.items():
        table.add_row(name, value)
    out.print(table)
