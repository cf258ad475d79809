"""JSON Schema export of the content schemas, for yaml-language-server and other editors."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from bot.content.models import LabelledSet, Question, RoundPlan, Rubric

SCHEMAS: dict[str, type[BaseModel]] = {
    "question.schema.json": Question,
    "rubric.schema.json": Rubric,
    "labelled.schema.json": LabelledSet,
    "plan.schema.json": RoundPlan,
}


def write_json_schemas(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMAS.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        path = out_dir / name
        path.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
