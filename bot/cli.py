"""Command line: `interview-bot COMMAND`. BotError becomes a clear message and exit code."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bot import __version__
from bot.config import get_settings
from bot.content import COMPETENCIES, Question, load_bank
from bot.content.bank import ContentBank
from bot.errors import BotError, ContentError
from bot.grading.grade import Grade

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="interview-bot: practise software and GenAI-engineer interviews, offline.",
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

RootOpt = Annotated[
    Path | None, typer.Option("--root", help="Content root (default: the configured one).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def _bank(root: Path | None) -> ContentBank:
    return load_bank((root or get_settings().content_dir).resolve())


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@app.command()
def validate(root: RootOpt = None, as_json: JsonOpt = False) -> None:
    """Validate every question, rubric, kb document and labelled answer; list every error."""
    try:
        summary = _bank(root).summary()
    except ContentError as error:
        if as_json:
            _print_json({"ok": False, "errors": [vars(i) for i in error.issues]})
        else:
            sys.stdout.write("".join(f"{issue}\n" for issue in error.issues))
            sys.stdout.flush()
            err.print(f"[red]{len(error.issues)} error(s)[/red]")
        raise typer.Exit(1) from None
    if as_json:
        _print_json({"ok": True, "errors": [], **summary})
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

    for path in write_json_schemas(out_dir):
        out.print(f"wrote {path}")


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
    bank = _bank(root)
    chosen = [
        q
        for q in bank.questions.values()
        if (kind is None or q.kind == kind)
        and (competency is None or q.competency == competency.upper())
        and (tag is None or tag in q.tags)
    ]
    chosen.sort(key=lambda q: (q.kind, q.competency, q.difficulty, q.id))
    if as_json:
        _print_json([_question_row(q, bank) for q in chosen])
        return
    table = Table("id", "kind", "comp", "diff", "tags", "title")
    table.columns[0].no_wrap = True
    for q in chosen:
        table.add_row(q.id, q.kind, q.competency, str(q.difficulty), ",".join(q.tags), q.title)
    out.print(table)
    out.print(f"{len(chosen)} of {len(bank.questions)} questions")


@app.command()
def coverage(root: RootOpt = None, as_json: JsonOpt = False) -> None:
    """Check the bank against coverage.yaml: required topics, counts and difficulty spread."""
    from bot.content.coverage import coverage_report, load_spec

    bank = _bank(root)
    report = coverage_report(bank, load_spec(bank.root / "coverage.yaml"))
    if as_json:
        _print_json(report)
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
        for item, ids in table.items():
            mark = "[green]ok[/green]" if ids else "[red]MISSING[/red]"
            out.print(f"  {mark} {item}: {', '.join(ids)}", highlight=False)
    for problem in report["problems"]:
        out.print(f"[red]problem:[/red] {problem}")
    out.print("[green]coverage OK[/green]" if report["ok"] else "[red]coverage incomplete[/red]")


@app.command()
def config(as_json: JsonOpt = False) -> None:
    """Show the effective settings, secrets masked."""
    shown = get_settings().shown()
    if as_json:
        _print_json(shown)
        return
    table = Table("setting", "value")
    for name, value in shown.items():
        table.add_row(name, value)
    out.print(table)


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
    """Run code against a coding question's examples and hidden tests."""
    from bot.sandbox import run_tests

    q = _bank(root).question(question)
    if q.coding is None:
        raise BotError(f"'{q.id}' is a {q.kind} question, not a coding one")
    if reference == (code_file is not None):
        raise BotError("give exactly one of --code-file and --reference")
    code = q.coding.reference_solution if code_file is None else _read_code(code_file)
    tests = list(q.coding.examples) + ([] if examples_only else list(q.coding.tests))
    report = run_tests(code, q.coding, tests)
    if as_json:
        _print_json(report.to_dict())
    else:
        _print_run(report)
    if report.error or report.passed != report.total:
        raise typer.Exit(1)


def _read_code(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BotError(f"cannot read {path}: {error}") from None


def _print_run(report: Any) -> None:
    if report.error:
        out.print(f"[red]The code did not load:[/red] {report.error}", markup=True)
        return
    for r in report.results:
        colour = "green" if r.status == "passed" else "red"
        detail = r.error or (f"got {r.actual}" if r.status == "failed" else "")
        out.print(
            f"[{colour}]{r.status:8}[/{colour}] {r.name} ({r.category}) "
            f"{r.seconds * 1000:.1f} ms {detail}",
            highlight=False,
        )
    out.print(f"{report.passed}/{report.total} passed in {report.seconds:.2f} s")


GraderOpt = Annotated[
    str, typer.Option("--grader", help="auto, offline, openai, anthropic or openai_compatible")
]


def _read_answer(answer: str | None, answer_file: Path | None) -> str:
    given = [a for a in (answer, answer_file) if a is not None]
    if len(given) != 1:
        raise BotError("give exactly one of --answer TEXT, --answer-file FILE or --answer-file -")
    if answer is not None:
        return answer
    assert answer_file is not None
    if str(answer_file) == "-":
        return sys.stdin.buffer.read().decode("utf-8", "replace")
    try:
        return answer_file.read_bytes().decode("utf-8", "replace")
    except OSError as error:
        raise BotError(f"cannot read {answer_file}: {error.strerror}") from None


@app.command()
def grade(
    question: Annotated[str, typer.Option("--question", help="Question id.")],
    answer: Annotated[str | None, typer.Option("--answer", help="The answer text.")] = None,
    answer_file: Annotated[
        Path | None, typer.Option("--answer-file", help="A file with the answer, or - for stdin.")
    ] = None,
    grader: GraderOpt = "auto",
    root: RootOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Grade one answer against the question's rubric and key points."""
    from bot.grading.graders import grade_answer
    from bot.grading.report import render_grade

    bank = _bank(root)
    q = bank.question(question)
    result = grade_answer(get_settings(), bank, q, _read_answer(answer, answer_file), choice=grader)
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
    out.print(render_grade(result), markup=False, highlight=False)


@app.command()
def practice(
    question: Annotated[str | None, typer.Option("--question", help="A question id.")] = None,
    competency: Annotated[str | None, typer.Option(help="C1..C6 or BH")] = None,
    kind: Annotated[str | None, typer.Option(help="coding, system_design, ...")] = None,
    grader: GraderOpt = "auto",
    root: RootOpt = None,
) -> None:
    """Answer one question in the terminal and get it graded (end the answer with Ctrl-D)."""
    import random

    from bot.grading.ladder import reference_prose
    from bot.grading.report import render_grade

    bank = _bank(root)
    if question:
        q = bank.question(question)
    else:
        pool = [
            x
            for x in bank.questions.values()
            if (competency is None or x.competency == competency.upper())
            and (kind is None or x.kind == kind)
        ]
        if not pool:
            raise BotError("no question matches those filters")
        q = random.choice(pool)
    out.print(
        f"[bold]{q.title}[/bold]  ({q.id}, {q.kind}, {q.competency}, difficulty "
        f"{q.difficulty}, about {q.suggested_minutes} min)\n"
    )
    out.print(q.prompt, markup=False, highlight=False)
    if q.coding:
        out.print(f"\nSignature: {q.coding.signature}", markup=False, highlight=False)
    err.print("\nType your answer; finish with Ctrl-D on an empty line.")
    began = time.monotonic()
    answer = sys.stdin.read()
    result = _save_and_grade(bank, q, answer, grader, duration_s=time.monotonic() - began)
    out.print(render_grade(result), markup=False, highlight=False)
    out.print(f"\nReference answer ({bank.docs[q.reference].path}):\n", highlight=False)
    out.print(reference_prose(bank, q), markup=False, highlight=False)


def _save_and_grade(
    bank: ContentBank, q: Question, answer: str, grader: str, *, duration_s: float
) -> Grade:
    """The answer is stored before grading, so a failed grade never loses it."""
    from bot.grading.graders import grade_answer
    from bot.history import AttemptStore

    settings = get_settings()
    with AttemptStore.open(settings.effective_database_url) as store:
        session_id = store.start_session("single")
        attempt_id = store.save_answer(
            session_id=session_id,
            question_id=q.id,
            kind=q.kind,
            competency=q.competency,
            difficulty=q.difficulty,
            answer=answer,
            duration_s=round(duration_s, 1),
        )
        result = grade_answer(settings, bank, q, answer, choice=grader)
        store.record_grade(attempt_id, result)
        store.end_session(session_id)
    return result


@app.command()
def history(as_json: JsonOpt = False) -> None:
    """Your graded attempts: count, mean score and trend per competency."""
    from bot.history import AttemptStore

    with AttemptStore.open(get_settings().effective_database_url) as store:
        summary = store.summary()
        attempts = store.attempts()
    if as_json:
        _print_json(
            {
                "competencies": {k: vars(v) for k, v in summary.items()},
                "attempts": [a.to_dict() for a in attempts],
            }
        )
        return
    table = Table("competency", "attempts", "graded", "mean score", "trend (last 5 vs 5 before)")
    for name, row in sorted(summary.items()):
        trend = "-" if row.trend is None else f"{row.trend:+.1f}"
        mean = "-" if row.mean_score is None else f"{row.mean_score:.1f}"
        table.add_row(
            f"{name} {COMPETENCIES.get(name, '')}", str(row.attempts), str(row.graded), mean, trend
        )
    out.print(table)
    for a in attempts[-10:]:
        score = "-" if a.score is None else f"{a.score:.0f}"
        out.print(f"{a.created_at:%Y-%m-%d %H:%M}  {a.question_id:<40} {score:>4}", highlight=False)


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    since: Annotated[str | None, typer.Option(help="Only from this date (YYYY-MM-DD).")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="File (default: stdout).")] = None,
) -> None:
    """Export attempts: CSV (one row per graded attempt) or JSON (sessions with full grades)."""
    import io
    from datetime import UTC, datetime

    from bot.history import AttemptStore, export_csv, export_json

    if fmt not in ("csv", "json"):
        raise BotError(f"unknown format '{fmt}' (use csv or json)")
    try:
        start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
    except ValueError:
        raise BotError(f"--since takes a date like 2026-11-01, not '{since}'") from None
    buffer = io.StringIO()
    with AttemptStore.open(get_settings().effective_database_url) as store:
        if fmt == "csv":
            export_csv(store.attempts(since=start), buffer)
        else:
            buffer.write(json.dumps(export_json(store.sessions(since=start)), indent=2) + "\n")
    if out_file is None:
        sys.stdout.write(buffer.getvalue())
    else:
        out_file.write_text(buffer.getvalue(), encoding="utf-8")
        err.print(f"wrote {out_file}")


@app.command("eval-grader")
def eval_grader(
    dataset: Annotated[
        Path | None, typer.Option("--dataset", help="A CSV in the shared layout.")
    ] = None,
    split: Annotated[str | None, typer.Option("--split", help="Only this split.")] = None,
    labelled: Annotated[
        bool, typer.Option("--labelled", help="The project's own labelled answers.")
    ] = False,
    grader: GraderOpt = "offline",
    root: RootOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Agreement with human scores: n, Pearson, Spearman, QWK, MAE (and ROC AUC when 0/1)."""
    from rich.progress import Progress

    from bot.grading.datasets import labelled_rows, mark_binary, read_csv
    from bot.grading.evaluate import evaluate
    from bot.grading.graders import make_grader

    if labelled == (dataset is not None):
        raise BotError("give exactly one of --dataset FILE and --labelled")
    bank = _bank(root)
    rows = labelled_rows(bank) if labelled else mark_binary(read_csv(dataset, split=split))  # type: ignore[arg-type]
    # The off-topic check compares an answer with the bank's other questions: it applies to the
    # bank's own questions (--labelled), not to a dataset's.
    chosen = make_grader(get_settings(), grader, bank if labelled else None)
    with Progress(console=err, transient=True, disable=as_json) as bar:
        task = bar.add_task("grading", total=len(rows))
        table = evaluate(
            chosen, rows, bank, progress=lambda done, total: bar.update(task, completed=done)
        )
    table["grader"] = chosen.name
    if as_json:
        _print_json(table)
        return
    grid = Table("answers", "n", "pearson", "spearman", "qwk", "mae", "auc")
    for name, row in (("all", table), (">= 5 words", table["answers_of_5_words_or_more"])):
        grid.add_row(
            name, *(str(row.get(k, "-")) for k in ("n", "pearson", "spearman", "qwk", "mae", "auc"))
        )
    out.print(grid)


def _knowledge_base() -> Any:
    from bot.kb import KnowledgeBase

    return KnowledgeBase(get_settings())


@app.command()
def index(
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Drop and re-embed everything.")
    ] = False,
    root: RootOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Chunk kb/ and bring the search index up to date (only changed chunks are embedded)."""
    from rich.progress import Progress

    bank, kb = _bank(root), _knowledge_base()
    with Progress(console=err, transient=True, disable=as_json) as bar:
        task = bar.add_task("embedding", total=None)
        report = kb.sync(
            bank,
            rebuild=rebuild,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        _print_json({**vars(report), "chunks": kb.count()})
        return
    out.print(
        f"index at {report.location}: {kb.count()} chunks - {report.added} added, "
        f"{report.updated} updated, {report.removed} removed, {report.unchanged} unchanged "
        f"in {report.seconds:.1f} s"
    )


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="How many passages.")] = 5,
    competency: Annotated[str | None, typer.Option(help="C1..C6 or BH")] = None,
    method: Annotated[str, typer.Option(help="hybrid, dense or lexical")] = "hybrid",
    as_json: JsonOpt = False,
) -> None:
    """Search the knowledge base; every passage comes with its citation."""
    if method not in ("hybrid", "dense", "lexical"):
        raise BotError(f"unknown method '{method}' (use hybrid, dense or lexical)")
    kb = _knowledge_base()
    hits = kb.search(
        query, k=k, competency=competency.upper() if competency else None, method=method
    )
    if as_json:
        _print_json([h.to_dict() for h in hits])
        return
    if not hits:
        out.print("no passages found")
    for n, hit in enumerate(hits, start=1):
        out.print(f"[bold]{n}. {hit.chunk.citation}[/bold]  (score {hit.score:.4f})")
        text = hit.chunk.text if len(hit.chunk.text) <= 400 else hit.chunk.text[:400] + " ..."
        out.print(text, markup=False, highlight=False)
        out.print()


@app.command("eval-retrieval")
def eval_retrieval(root: RootOpt = None, as_json: JsonOpt = False) -> None:
    """Recall@1, recall@5 and MRR of each question's reference doc, per retrieval method."""
    from bot.kb_eval import evaluate

    bank, kb = _bank(root), _knowledge_base()
    if kb.is_stale(bank):
        kb.sync(bank)
    table = evaluate(kb, bank)
    if as_json:
        _print_json(table)
        return
    grid = Table("method", "recall@1", "recall@5", "MRR", "questions")
    for method, row in table.items():
        grid.add_row(
            method,
            f"{row['recall@1']:.3f}",
            f"{row['recall@5']:.3f}",
            f"{row['mrr']:.3f}",
            str(int(row["n"])),
        )
    out.print(grid)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Start the browser app (Chainlit) on http://HOST:PORT."""
    from bot.server import serve as run_server

    run_server(host, port)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if version:
        out.print(f"interview-bot {__version__}")
        raise typer.Exit()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run a command, turning BotError into a message and an exit code."""
    try:
        result = app(args=argv, standalone_mode=False)
    except BotError as error:
        err.print(f"[red]error:[/red] {error}", highlight=False)
        return error.exit_code
    except typer.Exit as done:
        return done.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        return 130
    except Exception as error:  # click usage errors and the like
        import click

        if isinstance(error, click.ClickException):
            error.show()
            return error.exit_code
        raise
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    raise SystemExit(main())
