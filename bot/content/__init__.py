"""Content model: schemas, line-aware loading and cross-checks."""

from bot.content.bank import ContentBank, KbFile, load_bank
from bot.content.models import (
    COMPETENCIES,
    KINDS,
    CodeTest,
    CodingSpec,
    Criterion,
    KbDoc,
    KeyPoint,
    LabelledAnswer,
    LabelledSet,
    Level,
    Question,
    RedFlag,
    Rubric,
)

__all__ = [
    "COMPETENCIES",
    "KINDS",
    "CodeTest",
    "CodingSpec",
    "ContentBank",
    "Criterion",
    "KbDoc",
    "KbFile",
    "KeyPoint",
    "RedFlag",
    "LabelledAnswer",
    "LabelledSet",
    "Level",
    "Question",
    "Rubric",
    "load_bank",
]
