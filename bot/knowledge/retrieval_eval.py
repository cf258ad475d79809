"""How well retrieval finds each question's own reference document from the question's prompt."""

from __future__ import annotations

from typing import get_args

from bot.content import ContentBank
from bot.knowledge.kb import KnowledgeBase, Method

METHODS: tuple[Method, ...] = get_args(Method)


def doc_rank(kb: KnowledgeBase, query: str, doc_id: str, method: Method, depth: int = 50) -> int:
    """1-based rank of `doc_id` among distinct documents retrieved for `query`; 0 if absent."""
    seen: list[str] = []
    for hit in kb.search(query, k=depth, method=method):
        if hit.chunk.doc_id not in seen:
            seen.append(hit.chunk.doc_id)
    return seen.index(doc_id) + 1 if doc_id in seen else 0


def evaluate(kb: KnowledgeBase, bank: ContentBank) -> dict[str, dict[str, float]]:
    """recall@1, recall@5 and MRR of each question's reference doc, per retrieval method."""
    table: dict[str, dict[str, float]] = {}
    questions = list(bank.questions.values())
    for method in METHODS:
        ranks = [doc_rank(kb, q.prompt, q.reference, method) for q in questions]
        n = max(len(ranks), 1)
        table[method] = {
            "recall@1": round(sum(r == 1 for r in ranks) / n, 4),
            "recall@5": round(sum(1 <= r <= 5 for r in ranks) / n, 4),
            "mrr": round(sum(1 / r for r in ranks if r) / n, 4),
            "n": len(ranks),
        }
    return table
