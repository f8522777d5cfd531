"""JSON Schema of the rules AST, generated from the pydantic models (``regwatch rules schema``)."""

from __future__ import annotations

from typing import Any

from .ast import RulesFile


def ast_json_schema() -> dict[str, Any]:
    schema = RulesFile.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "regwatch rules file (AST)"
    return schema
