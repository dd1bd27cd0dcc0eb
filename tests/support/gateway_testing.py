"""Helpers for the PayPal and Authorize.Net stand-in tests: raw-HTTP callers and contract validators.

`paypal_http(sb)` is an httpx client holding a fresh PayPal access token; `anet_post(sb, name, body)`
sends one Authorize.Net request with the sandbox's credentials and returns (raw bytes, decoded answer).
`paypal_contract(file, schema)` validates a payload against a schema of PayPal's own OpenAPI files, found
through `NXT_CONTRACTS` or the shared folder beside the worktrees (`/work/shared/contracts/paypal/`);
tests that need them skip when they are absent (`CONTRACTS_MISSING`).

Imported by name (`from gateway_testing import ...`): `tests/support` is on pytest's `pythonpath`.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jsonschema

__all__ = ["CONTRACTS", "CONTRACTS_MISSING", "anet_post", "paypal_contract", "paypal_http", "paypal_token"]

CONTRACTS = Path(os.environ.get("NXT_CONTRACTS", "/work/shared/contracts")) / "paypal"
CONTRACTS_MISSING = not (CONTRACTS / "checkout_orders_v2.json").exists()


def paypal_token(sb: Any) -> str:
    creds = sb.credentials["paypal"]
    r = httpx.post(
        sb.urls["paypal"] + "/v1/oauth2/token",
        auth=(creds["client_id"], creds["client_secret"]),
        data={"grant_type": "client_credentials"},
        verify=sb.ssl_context() or True,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def paypal_http(sb: Any) -> httpx.Client:
    """An httpx client on the PayPal stand-in with `Authorization: Bearer <fresh token>`."""
    return httpx.Client(
        base_url=sb.urls["paypal"],
        headers={"Authorization": f"Bearer {paypal_token(sb)}"},
        verify=sb.ssl_context() or True,
        timeout=30,
    )


def anet_post(
    sb: Any, name: str, body: dict[str, Any] | None = None, *, raw: bytes | None = None
) -> tuple[bytes, dict[str, Any]]:
    """POST `{name: {merchantAuthentication, **body}}` (or `raw`) to the API URL; (bytes, decoded)."""
    creds = sb.credentials["authorizenet"]
    url = sb.describe()["authorizenet"]["api_url"]
    if raw is None:
        auth = {"name": creds["api_login_id"], "transactionKey": creds["transaction_key"]}
        raw = json.dumps({name: {"merchantAuthentication": auth, **(body or {})}}).encode()
    r = httpx.post(
        url, content=raw, headers={"content-type": "application/json"}, verify=sb.ssl_context() or True
    )
    assert r.status_code == 200, r.text  # Authorize.Net answers 200 even for errors
    return r.content, json.loads(r.content.decode("utf-8-sig"), parse_float=Decimal)


@functools.cache
def _spec(name: str, relax_dates: bool) -> dict[str, Any]:
    spec = json.loads((CONTRACTS / name).read_text())
    if relax_dates:
        # PayPal's Transaction Search prints `+0000` (its own sample responses, and live answers), which the
        # contract's date_time pattern (it wants `+00:00`) does not admit: the one known contract-vs-wire gap.
        spec = copy.deepcopy(spec)
        spec["components"]["schemas"]["date_time"].pop("pattern", None)
    return spec


def paypal_contract(file: str, schema: str, payload: Any, *, relax_dates: bool = False) -> None:
    """Validate `payload` against `#/components/schemas/<schema>` of PayPal's OpenAPI `file`."""
    spec = _spec(file, relax_dates)
    root = {"$ref": f"#/components/schemas/{schema}", "components": spec["components"]}
    jsonschema.Draft7Validator(root).validate(payload)
