"""Validate responses against the vendors' OpenAPI schemas (copies in tests/sandbox/contracts/).

OpenAPI 3.0 writes `nullable: true` where JSON Schema wants `"type": [..., "null"]`; `schema_for()`
rewrites that and keeps the document's `components` beside the schema so `#/components/...` refs
resolve. Formats are not checked (tests check the ones that matter, e.g. RFC 2822 dates, themselves).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

CONTRACTS = Path(__file__).resolve().parents[1] / "sandbox" / "contracts"

__all__ = ["assert_conforms", "contract", "schema_for"]


@cache
def contract(name: str) -> dict[str, Any]:
    return json.loads((CONTRACTS / name).read_text())


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items()}
    if out.pop("nullable", False):
        if "type" in out:
            t = out["type"]
            out["type"] = [*t, "null"] if isinstance(t, list) else [t, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "$ref" in out:
            out = {"anyOf": [{"$ref": out.pop("$ref")}, {"type": "null"}], **out}
    return out


def schema_for(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (from contract `name`) as a JSON Schema whose component refs resolve."""
    doc = contract(name)
    return {**_nullable(schema), "components": _nullable(doc.get("components", {}))}


def assert_conforms(instance: Any, name: str, schema: dict[str, Any]) -> None:
    jsonschema.validate(instance, schema_for(name, schema), cls=jsonschema.Draft202012Validator)
