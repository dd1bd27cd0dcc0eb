"""Validate JSON against Square's own OpenAPI file (/work/shared/contracts/square/api.json).

    assert_conforms("Payment", payment_json)

OpenAPI 3.0 schemas are read as JSON Schema draft 4 (`nullable` is ignored, so a stand-in must omit a field
rather than send null, as Square does). The contract is found through `NXT_CONTRACTS` or the shared folder.

Errata: the file's own mistakes, corrected before validating (each one is a schema that contradicts
Square's examples in the same file):
- `RiskEvaluation` requires `status`, a property it does not define (Square sends `created_at` and
  `risk_level` only).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

__all__ = ["assert_conforms", "contract_path"]


def contract_path() -> Path:
    base = Path(os.environ.get("NXT_CONTRACTS", "/work/shared/contracts"))
    return base / "square" / "api.json"


@cache
def _validator(schema: str) -> Draft4Validator:
    api = json.loads(contract_path().read_text())
    risk = api["components"]["schemas"]["RiskEvaluation"]
    risk["required"] = [r for r in risk.get("required", []) if r in risk.get("properties", {})]
    registry = Registry().with_resource("urn:square-api", Resource.from_contents(api, DRAFT4))
    return Draft4Validator({"$ref": f"urn:square-api#/components/schemas/{schema}"}, registry=registry)


def assert_conforms(schema: str, instance: Any) -> None:
    """Fail with every violation listed when `instance` does not conform to the contract's `schema`."""
    errors = sorted(_validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, f"{schema} does not conform ({len(errors)} errors): " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}" for e in errors[:10]
    )
