"""Split kb/ Markdown into heading-scoped chunks that keep their provenance as metadata."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot.content import KbFile
from bot.content.marks import marked_ids, strip_marks
from bot.knowledge.embeddings import MODEL_NAME

HEADING = re.compile(r"^(#{1,4})\s+(.*?)\s*#*\s*$")
MAX_WORDS = 180  # MiniLM reads 256 tokens; ~180 words stay inside that window


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    path: str
    heading: str
    text: str
    competency: str
    doc_kind: str
    question_ids: tuple[str, ...]
    key_point_ids: tuple[str, ...]

    @property
    def citation(self) -> str:
        return f"{self.path} § {self.heading}"

    @property
    def embed_text(self) -> str:
        return f"{self.heading}\n{self.text}"

    @property
    def content_hash(self) -> str:
        # The model is part of the hash: a new model re-embeds every chunk on the next sync.
        core = (MODEL_NAME, *self.metadata_core())
        return hashlib.sha256(repr(core).encode()).hexdigest()[:16]

    def metadata_core(self) -> tuple[object, ...]:
        return (
            self.doc_id,
            self.path,
            self.heading,
            self.text,
            self.competency,
            self.doc_kind,
            self.question_ids,
            self.key_point_ids,
        )

    def metadata(self) -> dict[str, str | int]:
        """Flat metadata for Chroma (lists become comma-wrapped strings)."""
        return {
            "doc_id": self.doc_id,
            "path": self.path,
            "heading": self.heading,
            "competency": self.competency,
            "doc_kind": self.doc_kind,
            "question_ids": _join(self.question_ids),
            "key_point_ids": _join(self.key_point_ids),
            "hash": self.content_hash,
        }

    @classmethod
    def from_record(cls, chunk_id: str, text: str, meta: dict[str, object]) -> Chunk:
        return cls(
            id=chunk_id,
            doc_id=str(meta["doc_id"]),
            path=str(meta["path"]),
            heading=str(meta["heading"]),
            text=text,
            competency=str(meta["competency"]),
            doc_kind=str(meta["doc_kind"]),
            question_ids=_split(str(meta["question_ids"])),
            key_point_ids=_split(str(meta["key_point_ids"])),
        )


def _join(items: tuple[str, ...]) -> str:
    return "," + ",".join(items) + "," if items else ""


def _split(text: str) -> tuple[str, ...]:
    return tuple(p for p in text.split(",") if p)


def chunk_document(kb: KbFile) -> list[Chunk]:
    """One chunk per heading section; long sections split at paragraph boundaries."""
    chunks: list[Chunk] = []
    for heading, body, marks in _sections(kb):
        for part in _windows(body):
            chunks.append(
                Chunk(
                    id=f"{kb.doc.id}#{len(chunks)}",
                    doc_id=kb.doc.id,
                    path=kb.path,
                    heading=heading,
                    text=part,
                    competency=kb.doc.competency,
                    doc_kind=kb.doc.kind,
                    question_ids=tuple(kb.doc.questions),
                    key_point_ids=marks,
                )
            )
    return chunks


def _sections(kb: KbFile) -> list[tuple[str, str, tuple[str, ...]]]:
    path: list[str] = [kb.doc.title]
    sections: list[tuple[str, str, tuple[str, ...]]] = []
    lines: list[str] = []
    marks: list[str] = []

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append((" > ".join(path), body, tuple(dict.fromkeys(marks))))
        lines.clear()
        marks.clear()

    in_code = False
    for line in kb.body.splitlines():
        in_code = in_code != line.lstrip().startswith("```")
        match = None if in_code else HEADING.match(line)
        if match:
            flush()
            level = len(match[1])
            path[:] = path[: max(level - 1, 1)] if level > 1 else [kb.doc.title]
            if level > 1:
                path.append(match[2])
            continue
        marks.extend(marked_ids(line))
        lines.append(strip_marks(line))
    flush()
    return sections


def _windows(body: str) -> list[str]:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    windows: list[str] = []
    current: list[str] = []
    for paragraph in paragraphs:
        if current and len(" ".join(current + [paragraph]).split()) > MAX_WORDS:
            windows.append("\n\n".join(current))
            current = []
        current.append(paragraph)
    if current:
        windows.append("\n\n".join(current))
    return windows
