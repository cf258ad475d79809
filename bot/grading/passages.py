"""Reference passages for grading: from the Chroma index when built, else straight from kb/."""

from __future__ import annotations

import numpy as np

from bot.config import Settings
from bot.content import ContentBank, Question
from bot.errors import KnowledgeBaseError
from bot.knowledge.chunking import Chunk, chunk_document
from bot.knowledge.embeddings import get_encoder
from bot.knowledge.kb import KnowledgeBase


class ReferencePassages:
    """Gives the k passages of a question's reference answer closest to a candidate's answer.

    The index is opened once, on first use; without an index the reference document's chunks are
    embedded once per document and kept.
    """

    def __init__(self, settings: Settings, bank: ContentBank, *, k: int = 3) -> None:
        self.settings, self.bank, self.k = settings, bank, k
        self._kb: KnowledgeBase | None = None
        self._indexed: bool | None = None
        self._local: dict[str, tuple[list[Chunk], np.ndarray]] = {}

    def __call__(self, question: Question, answer: str) -> list[str]:
        if question.id not in self.bank.questions:
            return []
        if self._has_index():
            assert self._kb is not None
            hits = self._kb.references(self.bank, question.id, answer, k=self.k)
            return [_cite(h.chunk) for h in hits]
        chunks, vectors = self._reference_chunks(question)
        query = get_encoder().encode([answer or question.prompt])[0]
        return [_cite(chunks[i]) for i in np.argsort(-(vectors @ query))[: self.k]]

    def _has_index(self) -> bool:
        if self._indexed is None:
            try:
                self._kb = KnowledgeBase(self.settings)
                self._indexed = self._kb.count() > 0
            except KnowledgeBaseError:
                self._indexed = False  # no index yet: read the reference answers directly
        return self._indexed

    def _reference_chunks(self, question: Question) -> tuple[list[Chunk], np.ndarray]:
        if question.reference not in self._local:
            chunks = chunk_document(self.bank.reference(question.id))
            self._local[question.reference] = (
                chunks,
                get_encoder().encode([c.embed_text for c in chunks]),
            )
        return self._local[question.reference]


def _cite(chunk: Chunk) -> str:
    return f"[{chunk.citation}]\n{chunk.text}"
