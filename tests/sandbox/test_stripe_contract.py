"""The Stripe stand-in's objects conform to Stripe's own OpenAPI schemas (shared/contracts/stripe/spec3.yaml).

The spec is OpenAPI 3.0 (`nullable`, `x-` extensions), turned into JSON Schema here and checked with
`jsonschema`; it describes API version 2023-08-16, so fields Stripe added since are extra properties, which
its schemas allow.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import stripe
import yaml
from referencing import Registry, Resource
from stripe_sandbox import stripe_http, stripe_sdk

from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

# The vendors' contracts live in the project's shared folder, beside the checkout (or its worktrees); set
# NXT_STRIPE_SPEC to point elsewhere.
_CANDIDATES = [Path(os.environ["NXT_STRIPE_SPEC"])] if os.environ.get("NXT_STRIPE_SPEC") else []
_CANDIDATES += [
    p / "shared" / "contracts" / "stripe" / "spec3.yaml" for p in Path(__file__).resolve().parents
]
SPEC = next((p for p in _CANDIDATES if p.exists()), _CANDIDATES[0])
pytestmark = pytest.mark.skipif(not SPEC.exists(), reason="Stripe's OpenAPI contract is not available")


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: `nullable: true` admits null; `x-*` keys go."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if not k.startswith("x-") and k != "nullable"}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "$ref" in out or "anyOf" in out or "allOf" in out or "oneOf" in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.fixture(scope="module")
def validate() -> Any:
    spec = yaml.load(SPEC.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    doc = {"components": {"schemas": _json_schema(spec["components"]["schemas"])}}
    registry = Registry().with_resource("spec", Resource.opaque(doc))

    def check(name: str, obj: dict[str, Any]) -> None:
        validator = jsonschema.Draft202012Validator(
            {"$ref": f"spec#/components/schemas/{name}"}, registry=registry
        )
        errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
        assert not errors, f"{name}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])

    return check


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(
        services=("stripe",), products=10, customers=20, orders=400, seed=13, now=DEFAULT_END
    ) as s:
        yield s


def test_main_objects_conform(sb: Sandbox, validate: Any) -> None:
    client = stripe_sdk(sb)
    cu = client.v1.customers.create(params={"email": "c@example.com", "metadata": {"a": "1"}})
    pm = client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_visa"}})
    pi = client.v1.payment_intents.create(
        params={
            "amount": 3000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "customer": cu.id,
        }
    )
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 100})
    held = client.v1.payment_intents.create(
        params={"amount": 3000, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True,
                "capture_method": "manual"}
    )  # fmt: skip
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(
            params={
                "amount": 3000,
                "currency": "usd",
                "payment_method": "pm_card_chargeDeclined",
                "confirm": True,
            }
        )
    sb.call(sb.stripe.open_dispute, str(pi.latest_charge), reason="duplicate", amount=1000)
    ep = client.v1.webhook_endpoints.create(
        params={"url": "https://example.com/hook", "enabled_events": ["*"]}
    )
    with stripe_http(sb) as http:

        def get(path: str, **params: Any) -> Any:
            r = http.get(path, params=params)
            assert r.status_code == 200, r.text
            return r.json()

        for obj in (get(f"/v1/payment_intents/{pi.id}"), get(f"/v1/payment_intents/{held.id}"),
                    declined.value.json_body["error"]["payment_intent"]):  # fmt: skip
            validate("payment_intent", obj)
        for c in get("/v1/charges", limit=100)["data"] + [get(f"/v1/charges/{declined.value.error.charge}")]:
            validate("charge", c)
        for r in get("/v1/refunds", limit=100)["data"] + [get(f"/v1/refunds/{refund.id}")]:
            validate("refund", r)
        for b in get("/v1/balance_transactions", limit=100)["data"]:
            validate("balance_transaction", b)
        for p in get("/v1/payouts", limit=100)["data"]:
            validate("payout", p)
        disputes = get("/v1/disputes", limit=100)["data"]
        assert disputes
        for d in disputes:
            validate("dispute", d)
        validate("customer", get(f"/v1/customers/{cu.id}"))
        validate("payment_method", get(f"/v1/payment_methods/{pm.id}"))
        validate("payment_method", get(f"/v1/payment_methods/{pi.payment_method}"))
        validate("balance", get("/v1/balance"))
        validate("webhook_endpoint", ep.to_dict())
        for e in get("/v1/events", limit=100)["data"]:
            validate("event", e)
        seeded = get("/v1/payment_intents", limit=100)["data"]
        for obj in seeded:
            validate("payment_intent", obj)


def test_error_bodies_match_stripes_error_schema(sb: Sandbox, validate: Any) -> None:
    with stripe_http(sb) as http:
        for r in (
            http.get("/v1/charges", params={"limit": 1000}),
            http.get("/v1/charges/ch_nope"),
            http.post("/v1/payment_intents", data={"amount": "1.5", "currency": "usd"}),
            http.get("/v1/balance", headers={"Authorization": "Bearer sk_test_wrong"}),
        ):
            assert r.status_code in (400, 401, 404)
            validate("error", r.json())
