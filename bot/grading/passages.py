"""Reference passages for grading: from the Chroma index when built, else straight from kb/."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bot.chunking import chunk_document
from bot.config import Settings
from bot.content import ContentBank, Question
from bot.embeddings import get_encoder
from bot.errors import KnowledgeBaseError


def reference_passages(
    settings: Settings, bank: ContentBank, *, k: int = 3
) -> Callable[[Question, str], list[str]]:
    """A function giving the k passages of a question's reference answer closest to an answer."""

    def passages(question: Question, answer: str) -> list[str]:
        if question.id not in bank.questions:
            return []
        try:
            from bot.kb import KnowledgeBase

            with KnowledgeBase(settings) as kb:
                if kb.count():
                    hits = kb.references(bank, question.id, answer, k=k)
                    return [f"[{h.chunk.citation}]\n{h.chunk.text}" for h in hits]
        except KnowledgeBaseError:
            pass  # no index yet: read the reference answer directly
        chunks = chunk_document(bank.reference(question.id))
        vectors = get_encoder().encode([c.embed_text for c in chunks])
        query = get_encoder().encode([answer or question.prompt])[0]
        order = np.argsort(-(vectors @ query))[:k]
        return [f"[{chunks[i].citation}]\n{chunks[i].text}" for i in order]

    return passages
