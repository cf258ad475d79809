"""The packaged MiniLM as a Chroma embedding function (imports chromadb: load it only with Chroma).

Kept apart from `bot.knowledge.embeddings` so that grading, which needs the model but not the
index, does not pay for importing chromadb (1.8 s of a cold CLI grade).
"""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from bot.knowledge.embeddings import DIMENSION, MODEL_NAME, get_encoder


@register_embedding_function
class PackagedMiniLM(EmbeddingFunction[Documents]):
    """Chroma embedding function backed by the packaged int8 MiniLM model."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return list(get_encoder().encode(list(input)))

    @staticmethod
    def name() -> str:
        return "interview-bot-minilm-int8"

    def default_space(self) -> Any:
        return "cosine"

    def supported_spaces(self) -> Any:
        return ["cosine"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> PackagedMiniLM:
        return PackagedMiniLM()

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME, "dimension": DIMENSION}

    def is_legacy(self) -> bool:
        return False
