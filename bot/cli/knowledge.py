"""Knowledge base: index, search, eval-retrieval."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from bot.cli.common import JsonOpt, RootOpt, app, content_bank, err, out, print_json, shown
from bot.config import get_settings
from bot.errors import BotError


def _knowledge_base() -> Any:
    from bot.knowledge.kb import KnowledgeBase

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

    bank, kb = content_bank(root), _knowledge_base()
    with Progress(console=err, transient=True, disable=as_json) as bar:
        task = bar.add_task("embedding", total=None)
        report = kb.sync(
            bank,
            rebuild=rebuild,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if report.skipped:
        if as_json:
            print_json({**vars(report)})
        else:
            out.print(f"index at {report.location}: up to date (kb unchanged since the last sync)")
        return
    if as_json:
        print_json({**vars(report), "chunks": kb.count()})
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
        print_json([h.to_dict() for h in hits])
        return
    if not hits:
        out.print("no passages found")
    for n, hit in enumerate(hits, start=1):
        out.print(f"[bold]{n}. {hit.chunk.citation}[/bold]  (score {hit.score:.4f})")
        text = hit.chunk.text if len(hit.chunk.text) <= 400 else hit.chunk.text[:400] + " ..."
        out.print(shown(text), markup=False, highlight=False)
        out.print()


@app.command("eval-retrieval")
def eval_retrieval(root: RootOpt = None, as_json: JsonOpt = False) -> None:
    """Recall@1, recall@5 and MRR of each question's reference doc, per retrieval method."""
    from bot.knowledge.retrieval_eval import evaluate

    bank, kb = content_bank(root), _knowledge_base()
    if kb.is_stale(bank):
        kb.sync(bank)
    table = evaluate(kb, bank)
    if as_json:
        print_json(table)
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
