"""Grading commands: grade, practice, eval-grader."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import (
    GraderOpt,
    JsonOpt,
    RootOpt,
    UserOpt,
    app,
    chosen_user,
    content_bank,
    err,
    out,
    print_json,
    read_stdin,
    shown,
)
from bot.config import get_settings
from bot.content import Question
from bot.content.bank import ContentBank
from bot.content.select import select_questions
from bot.errors import BotError
from bot.grading.grade import Grade, RunSummary
from bot.text import ANSWER_CUT, read_answer

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "red", "timeout": "yellow"}


def _read_answer(answer: str | None, answer_file: Path | None) -> str:
    given = [a for a in (answer, answer_file) if a is not None]
    if len(given) != 1:
        raise BotError("give exactly one of --answer TEXT, --answer-file FILE or --answer-file -")
    if answer is not None:
        return answer
    assert answer_file is not None
    if str(answer_file) == "-":
        return read_stdin()
    try:
        with answer_file.open("rb") as stream:
            text, cut = read_answer(stream, errors="replace")
    except OSError as error:
        raise BotError(f"cannot read {answer_file}: {error.strerror}") from None
    if cut:
        err.print(escape(ANSWER_CUT))
    return text


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
    """Grade one answer against the question's rubric and key points.

    A coding answer's code runs on the question's hidden tests, as when it is submitted in the
    app, and the share passed sets the correctness level.
    """
    from bot.grading.coding import grade_answer
    from bot.grading.graders import make_grader

    bank = content_bank(root)
    q = bank.question(question)
    text = _read_answer(answer, answer_file)
    result = grade_answer(make_grader(get_settings(), grader, bank), q, bank.rubric(q.rubric), text)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    _print_grade(result)


@app.command()
def practice(
    question: Annotated[str | None, typer.Option("--question", help="A question id.")] = None,
    competency: Annotated[str | None, typer.Option(help="C1..C6 or BH")] = None,
    kind: Annotated[str | None, typer.Option(help="coding, system_design, ...")] = None,
    grader: GraderOpt = "auto",
    root: RootOpt = None,
    user: UserOpt = None,
) -> None:
    """Answer one question in the terminal and get it graded (end the answer with Ctrl-D)."""
    import random

    from bot.grading.evals.ladder import reference_prose

    bank = content_bank(root)
    if question:
        q = bank.question(question)
    else:
        pool = select_questions(bank.questions, kind=kind, competency=competency)
        if not pool:
            raise BotError("no question matches those filters")
        q = random.choice(pool)
    out.print(
        f"[bold]{q.title}[/bold]  ({q.id}, {q.kind}, {q.competency}, difficulty "
        f"{q.difficulty}, about {q.suggested_minutes} min)\n"
    )
    out.print(shown(q.prompt), markup=False, highlight=False)
    if q.coding:
        out.print(shown(f"\nSignature: {q.coding.signature}"), markup=False, highlight=False)
    err.print("\nType your answer; finish with Ctrl-D on an empty line.")
    began = time.monotonic()
    answer = read_stdin()
    duration_s = time.monotonic() - began
    result = _save_and_grade(bank, q, answer, grader, duration_s=duration_s, user=user)
    _print_grade(result)
    out.print(f"\nReference answer ({bank.docs[q.reference].path}):\n", highlight=False)
    out.print(shown(reference_prose(bank, q)), markup=False, highlight=False)


def _save_and_grade(
    bank: ContentBank,
    q: Question,
    answer: str,
    grader: str,
    *,
    duration_s: float,
    user: str | None = None,
) -> Grade:
    """The answer is stored before the grader is even built, so a failure never loses it."""
    from bot.grading.graders import make_grader
    from bot.interview.attempt import single_attempt
    from bot.store import AttemptStore

    settings = get_settings()
    with AttemptStore.open(settings.effective_database_url) as store:
        return single_attempt(
            store,
            q,
            bank.rubric(q.rubric),
            answer,
            grader=lambda: make_grader(settings, grader, bank),
            duration_s=round(duration_s, 1),
            user_id=chosen_user(store, user),
        )


def _print_grade(grade: Grade) -> None:
    """The grade, then the hidden-test table of a coding answer."""
    from bot.grading.report import render_grade

    out.print(shown(render_grade(grade)), markup=False, highlight=False)
    if grade.run is not None:
        out.print()
        _print_hidden_tests(grade.run)


def _print_hidden_tests(run: RunSummary) -> None:
    if run.error is not None:
        what = "No code to run" if not run.code_found else "The code did not load"
        out.print(f"[red]{what}:[/red] " + escape(shown(run.error)), highlight=False)
        return
    table = Table(
        "status", "test", "category", "ms", title=f"Hidden tests: {run.passed}/{run.total} passed"
    )
    for t in run.tests:
        style = STATUS_STYLE.get(t.status, "red")
        table.add_row(
            f"[{style}]{t.status}[/{style}]",
            escape(shown(t.name)),
            escape(shown(t.category)),
            f"{t.seconds * 1000:.1f}",
        )
    out.print(table)


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

    from bot.grading.evals.datasets import labelled_rows, mark_binary, read_csv
    from bot.grading.evals.evaluate import evaluate
    from bot.grading.graders import make_grader

    if labelled == (dataset is not None):
        raise BotError("give exactly one of --dataset FILE and --labelled")
    bank = content_bank(root)
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
        print_json(table)
        return
    grid = Table("answers", "n", "pearson", "spearman", "qwk", "mae", "auc")
    for name, row in (("all", table), (">= 5 words", table["answers_of_5_words_or_more"])):
        grid.add_row(
            name, *(str(row.get(k, "-")) for k in ("n", "pearson", "spearman", "qwk", "mae", "auc"))
        )
    out.print(grid)
