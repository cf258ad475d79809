"""The knowledge-base index: chunks of kb/ in Chroma (on disk, or a Chroma server), kept in sync
incrementally, searched by dense, lexical (BM25) and hybrid (reciprocal rank fusion) retrieval.

Nothing here runs at import time: the model and the index open on first use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bot.config import Settings, private_dir
from bot.content import ContentBank, cache
from bot.errors import KnowledgeBaseError
from bot.knowledge import chunking
from bot.knowledge.chunking import Chunk, chunk_document
from bot.knowledge.embeddings import DIMENSION, MODEL_NAME, get_encoder
from bot.text import STOPWORDS, WORD

COLLECTION = "kb_chunks"
SYNC_STAMP = ".interview-bot-synced"  # in a local index folder: the key it was last synced from
RRF_K = 60
Method = Literal["dense", "lexical", "hybrid"]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    dense: float | None = None
    lexical: float | None = None

    def to_dict(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "citation": c.citation,
            "path": c.path,
            "heading": c.heading,
            "doc_id": c.doc_id,
            "competency": c.competency,
            "question_ids": list(c.question_ids),
            "key_point_ids": list(c.key_point_ids),
            "score": round(self.score, 6),
            "dense": None if self.dense is None else round(self.dense, 6),
            "lexical": None if self.lexical is None else round(self.lexical, 6),
            "text": c.text,
        }


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    location: str = ""
    skipped: bool = False  # nothing changed since the last sync: the index was not opened

    @property
    def embedded(self) -> int:
        return self.added + self.updated


def words(text: str) -> list[str]:
    """Lower-case word tokens without stop words, for BM25: grading's tokenizer and stop list."""
    return [w for w in (token.lower() for token in WORD.findall(text)) if w not in STOPWORDS]


@dataclass
class _Lexical:
    """BM25 over every chunk in the collection, rebuilt when the collection changes."""

    chunks: list[Chunk]
    model: Any = field(default=None)

    def __post_init__(self) -> None:
        import bm25s

        self.model = bm25s.BM25()
        self.model.index([words(c.embed_text) or ["_"] for c in self.chunks], show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        terms = words(query)
        if not terms:
            return np.zeros(len(self.chunks))
        return np.asarray(self.model.get_scores(terms), dtype=np.float64)


class KnowledgeBase:
    """A Chroma collection of kb/ chunks plus an in-memory BM25 index over the same chunks."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Any = None
        self._collection: Any = None
        self._lexical: _Lexical | None = None
        self._chunks: dict[str, Chunk] | None = None

    @property
    def location(self) -> str:
        s = self.settings
        return f"chroma://{s.chroma_host}:{s.chroma_port}" if s.chroma_host else str(s.chroma_path)

    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = self._open()
        return self._collection

    def _open(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        from bot.knowledge.chroma_function import PackagedMiniLM

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        try:
            if self.settings.chroma_host:
                client = chromadb.HttpClient(
                    host=self.settings.chroma_host,
                    port=self.settings.chroma_port,
                    settings=chroma_settings,
                )
            else:
                private_dir(self.settings.chroma_path)
                client = chromadb.PersistentClient(
                    path=str(self.settings.chroma_path), settings=chroma_settings
                )
            self._client = client
            return client.get_or_create_collection(
                COLLECTION,
                embedding_function=PackagedMiniLM(),  # type: ignore[arg-type]
                metadata={"model": MODEL_NAME, "dimension": DIMENSION},
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as error:  # connection refused, corrupt store, ...
            raise KnowledgeBaseError(
                f"cannot open the index at {self.location}: {error}"
            ) from error

    def close(self) -> None:
        """Release the client (connections, file handles); the object can be reopened later."""
        if self._client is not None:
            self._client.close()
            # chromadb's HTTP clients do not close their connection pools on close(): do it here.
            for owner in (self._client, getattr(self._client, "_admin_client", None)):
                session = getattr(getattr(owner, "_server", None), "_session", None)
                if session is not None:
                    session.close()
        self._client = self._collection = None
        self._invalidate()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- building -------------------------------------------------------------------------------

    def stored_hashes(self) -> dict[str, str]:
        got = self.collection.get(include=["metadatas"])
        return {
            i: str(m.get("hash", ""))
            for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)
        }

    def is_stale(self, bank: ContentBank) -> bool:
        wanted = {c.id: c.content_hash for c in all_chunks(bank)}
        return wanted != self.stored_hashes()

    def sync(
        self, bank: ContentBank, *, rebuild: bool = False, progress: Progress | None = None
    ) -> SyncReport:
        """Make the index match kb/: embed new and changed chunks only, delete removed ones.

        A local index remembers what it was last synced from (the bank's fingerprint, the model
        and the chunking code): when nothing changed, the index is not even opened."""
        began = time.perf_counter()
        stamp = self._stamp(bank)
        if not rebuild and stamp is not None and stamp.is_file():
            if stamp.read_text(encoding="utf-8") == self._stamp_key(bank):
                return SyncReport(location=self.location, skipped=True)
        stored = self.stored_hashes()
        if rebuild and stored:
            self.collection.delete(ids=list(stored))
            stored = {}
        chunks = all_chunks(bank)
        wanted = {c.id: c for c in chunks}
        changed = [c for c in chunks if stored.get(c.id) != c.content_hash]
        report = SyncReport(location=self.location)
        report.added = sum(c.id not in stored for c in changed)
        report.updated = len(changed) - report.added
        report.unchanged = len(chunks) - len(changed)
        removed = [i for i in stored if i not in wanted]
        if removed:
            self.collection.delete(ids=removed)
        report.removed = len(removed)
        self._upsert(changed, progress)
        self._invalidate()
        if stamp is not None:
            stamp.write_text(self._stamp_key(bank), encoding="utf-8")
        report.seconds = round(time.perf_counter() - began, 3)
        return report

    def _stamp(self, bank: ContentBank) -> Path | None:
        """Where a local index notes what it was synced from (none for a server or a bank
        loaded without its fingerprint)."""
        if self.settings.chroma_host or not bank.fingerprint:
            return None
        return self.settings.chroma_path / SYNC_STAMP

    @staticmethod
    def _stamp_key(bank: ContentBank) -> str:
        return cache.key_of([bank.fingerprint, MODEL_NAME, cache.code_hash(chunking)])

    def _upsert(self, chunks: list[Chunk], progress: Progress | None, batch: int = 64) -> None:
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            vectors = get_encoder().encode([c.embed_text for c in part])
            self.collection.upsert(
                ids=[c.id for c in part],
                embeddings=vectors,
                documents=[c.text for c in part],
                metadatas=[c.metadata() for c in part],
            )
            if progress:
                progress(min(start + batch, len(chunks)), len(chunks))

    def count(self) -> int:
        return int(self.collection.count())

    def _invalidate(self) -> None:
        self._lexical = None
        self._chunks = None

    # -- reading --------------------------------------------------------------------------------

    def chunks(self) -> dict[str, Chunk]:
        if self._chunks is None:
            got = self.collection.get(include=["documents", "metadatas"])
            self._chunks = {
                i: Chunk.from_record(i, d, m)
                for i, d, m in zip(
                    got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
                )
            }
        return self._chunks

    def lexical(self) -> _Lexical:
        if self._lexical is None:
            self._lexical = _Lexical(list(self.chunks().values()))
        return self._lexical

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        competency: str | None = None,
        doc_id: str | None = None,
        method: Method = "hybrid",
    ) -> list[Hit]:
        """Top-k passages for `query`, optionally filtered; hybrid fuses dense and BM25 by RRF."""
        if self.count() == 0:
            raise KnowledgeBaseError("the index is empty: run `interview-bot index` first")
        filters = {
            key: value for key, value in (("competency", competency), ("doc_id", doc_id)) if value
        }
        depth = max(k * 4, 40)
        dense = self._dense(query, depth, filters) if method != "lexical" else []
        lexical = self._bm25(query, depth, filters) if method != "dense" else []
        if method == "dense":
            return [Hit(c, s, dense=s) for c, s in dense[:k]]
        if method == "lexical":
            return [Hit(c, s, lexical=s) for c, s in lexical[:k]]
        return fuse(dense, lexical)[:k]

    def _dense(self, query: str, depth: int, filters: dict[str, str]) -> list[tuple[Chunk, float]]:
        vector = get_encoder().encode([query])
        where: Any = _where(filters)
        got = self.collection.query(
            query_embeddings=vector,
            n_results=min(depth, self.count()),
            where=where,
            include=["distances"],
        )
        known = self.chunks()
        return [
            (known[i], 1.0 - float(d))
            for i, d in zip(got["ids"][0], got["distances"][0], strict=True)
            if i in known
        ]

    def _bm25(self, query: str, depth: int, filters: dict[str, str]) -> list[tuple[Chunk, float]]:
        lexical = self.lexical()
        scores = lexical.scores(query)
        order = np.argsort(-scores, kind="stable")
        ranked: list[tuple[Chunk, float]] = []
        for index in order:
            chunk = lexical.chunks[int(index)]
            if scores[index] <= 0 or len(ranked) >= depth:
                break
            if all(chunk.metadata()[key] == value for key, value in filters.items()):
                ranked.append((chunk, float(scores[index])))
        return ranked

    def references(
        self, bank: ContentBank, question_id: str, answer: str, *, k: int = 3
    ) -> list[Hit]:
        """Passages of a question's reference answer, closest to the candidate's answer first."""
        doc_id = bank.question(question_id).reference
        return self.search(
            answer or bank.question(question_id).prompt, k=k, doc_id=doc_id, method="dense"
        )


def _where(filters: dict[str, str]) -> dict[str, Any] | None:
    if not filters:
        return None
    if len(filters) == 1:
        return dict(filters)
    return {"$and": [{key: value} for key, value in filters.items()]}


def fuse(*rankings: Iterable[tuple[Chunk, float]]) -> list[Hit]:
    """Reciprocal rank fusion: score = sum over rankings of 1 / (60 + rank)."""
    fused: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    parts: dict[str, dict[int, float]] = {}
    for which, ranking in enumerate(rankings):
        for rank, (chunk, score) in enumerate(ranking, start=1):
            fused[chunk.id] = fused.get(chunk.id, 0.0) + 1.0 / (RRF_K + rank)
            chunks[chunk.id] = chunk
            parts.setdefault(chunk.id, {})[which] = score
    order = sorted(fused, key=lambda i: (-fused[i], i))
    return [Hit(chunks[i], fused[i], dense=parts[i].get(0), lexical=parts[i].get(1)) for i in order]


def all_chunks(bank: ContentBank) -> list[Chunk]:
    return [c for f in bank.docs.values() for c in chunk_document(f)]
