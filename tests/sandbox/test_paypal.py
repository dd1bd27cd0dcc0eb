"""The PayPal stand-in over raw HTTP: OAuth2, Orders v2, Payments v2, PayPal's errors and idempotency.

Each check is a fact about PayPal's wire protocol (vendor-protocols.md section 3, the OpenAPI contracts in
shared/contracts/paypal, PayPal's docs), and payments made here must land in the world's ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gateway_testing import CONTRACTS_MISSING, paypal_contract, paypal_http, paypal_token

from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

SIZES = {"products": 40, "customers": 30, "orders": 160, "seed": 11, "now": DEFAULT_END}
needs_contracts = pytest.mark.skipif(CONTRACTS_MISSING, reason="PayPal's OpenAPI contracts are not available")


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("paypal",), **SIZES) as sandbox:
        yield sandbox


@pytest.fixture
def pp(sb: Sandbox) -> Iterator[httpx.Client]:
    with paypal_http(sb) as client:
        yield client


def order_body(value: str = "25.00", currency: str = "USD", **unit: Any) -> dict[str, Any]:
    return {
        "intent": "CAPTURE",
        "purchase_units": [{"amount": {"currency_code": currency, "value": value}, **unit}],
    }


def issue(r: httpx.Response) -> str:
    return str(r.json()["details"][0]["issue"])


def approved_order(sb: Sandbox, pp: httpx.Client, **unit: Any) -> str:
    r = pp.post("/v2/checkout/orders", json=order_body(**unit))
    assert r.status_code == 201, r.text
    sb.call(sb.paypal.approve_order, r.json()["id"])
    return str(r.json()["id"])


def captured(sb: Sandbox, pp: httpx.Client, **unit: Any) -> tuple[str, dict[str, Any]]:
    oid = approved_order(sb, pp, **unit)
    r = pp.post(f"/v2/checkout/orders/{oid}/capture", headers={"Prefer": "return=representation"})
    assert r.status_code == 201, r.text
    return oid, r.json()["purchase_units"][0]["payments"]["captures"][0]


# --- OAuth 2.0 ----------------------------------------------------------------------------------------
def test_token_answers_paypal_fields(sb: Sandbox) -> None:
    creds = sb.credentials["paypal"]
    r = httpx.post(
        sb.urls["paypal"] + "/v1/oauth2/token",
        auth=(creds["client_id"], creds["client_secret"]),
        data={"grant_type": "client_credentials"},
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"scope", "access_token", "token_type", "app_id", "expires_in", "nonce"}
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0 and body["app_id"].startswith("APP-")
    assert r.headers["PayPal-Debug-Id"]


@pytest.mark.parametrize(
    ("auth", "data", "status", "expected"),
    [
        (
            ("wrong", "secret"),
            {"grant_type": "client_credentials"},
            401,
            ("invalid_client", "Client Authentication failed"),
        ),
        (None, {"grant_type": "client_credentials"}, 401, ("invalid_client", "Client Authentication failed")),
        ("ok", {}, 400, ("unsupported_grant_type", "Grant Type is NULL")),
        (
            "ok",
            {"grant_type": "password"},
            400,
            ("unsupported_grant_type", "password is a unsupported grant_type"),
        ),
    ],
)
def test_token_refusals_use_the_oauth_shape(
    sb: Sandbox, auth: Any, data: dict[str, str], status: int, expected: tuple[str, str]
) -> None:
    creds = sb.credentials["paypal"]
    if auth == "ok":
        auth = (creds["client_id"], creds["client_secret"])
    r = httpx.post(sb.urls["paypal"] + "/v1/oauth2/token", auth=auth, data=data)
    assert r.status_code == status
    assert r.json() == {"error": expected[0], "error_description": expected[1]}


def test_api_without_a_token_is_authentication_failure(sb: Sandbox) -> None:
    r = httpx.get(sb.urls["paypal"] + "/v2/checkout/orders/ABC")
    assert r.status_code == 401
    body = r.json()
    assert body["name"] == "AUTHENTICATION_FAILURE" and body["debug_id"] == r.headers["PayPal-Debug-Id"]


def test_expired_token_is_invalid_token_until_a_new_one(sb: Sandbox) -> None:
    token = paypal_token(sb)
    headers = {"Authorization": f"Bearer {token}"}
    url = sb.urls["paypal"] + "/v2/checkout/orders"
    assert httpx.post(url, headers=headers, json=order_body()).status_code == 201
    sb.call(sb.paypal.expire_tokens)
    r = httpx.post(url, headers=headers, json=order_body())
    assert r.status_code == 401
    assert r.json() == {"error": "invalid_token", "error_description": "Access Token not found in cache"}
    fresh = {"Authorization": f"Bearer {paypal_token(sb)}"}
    assert httpx.post(url, headers=fresh, json=order_body()).status_code == 201


def test_tokens_expire_after_their_lifetime(sb: Sandbox) -> None:
    sb.call(sb.paypal.configure, token_ttl=120)
    try:
        creds = sb.credentials["paypal"]
        body = httpx.post(
            sb.urls["paypal"] + "/v1/oauth2/token",
            auth=(creds["client_id"], creds["client_secret"]),
            data={"grant_type": "client_credentials"},
        ).json()
        assert body["expires_in"] == 120
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        url = sb.urls["paypal"] + "/v2/checkout/orders/NOSUCHORDER12345"
        assert httpx.get(url, headers=headers).status_code == 404  # alive: the order is unknown
        sb.call(sb.paypal.advance_clock, 121)
        assert httpx.get(url, headers=headers).json()["error"] == "invalid_token"
    finally:
        sb.call(sb.paypal.configure, token_ttl=32_400)


def test_basic_app_credentials_work_on_api_calls(sb: Sandbox) -> None:
    creds = sb.credentials["paypal"]
    r = httpx.post(
        sb.urls["paypal"] + "/v2/checkout/orders",
        auth=(creds["client_id"], creds["client_secret"]),
        json=order_body(),
    )
    assert r.status_code == 201


# --- Orders v2 ----------------------------------------------------------------------------------------
def test_create_answers_minimal_with_an_approve_link(pp: httpx.Client) -> None:
    r = pp.post("/v2/checkout/orders", json=order_body(invoice_id="WC-1001", custom_id="1001"))
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"id", "status", "links"} and body["status"] == "CREATED" and len(body["id"]) == 17
    rels = {link["rel"]: link for link in body["links"]}
    assert set(rels) == {"self", "approve", "update", "capture"}
    assert rels["capture"]["method"] == "POST" and rels["update"]["method"] == "PATCH"


@needs_contracts
def test_order_representation_conforms_to_the_contract(sb: Sandbox, pp: httpx.Client) -> None:
    r = pp.post(
        "/v2/checkout/orders",
        json=order_body(invoice_id="WC-1002", custom_id="1002", description="Order #1002"),
        headers={"Prefer": "return=representation"},
    )
    order = r.json()
    assert order["intent"] == "CAPTURE" and order["purchase_units"][0]["amount"]["value"] == "25.00"
    paypal_contract("checkout_orders_v2.json", "order", order)
    sb.call(sb.paypal.approve_order, order["id"])
    captured_order = pp.post(
        f"/v2/checkout/orders/{order['id']}/capture", headers={"Prefer": "return=representation"}
    ).json()
    paypal_contract("checkout_orders_v2.json", "order", captured_order)
    capture = captured_order["purchase_units"][0]["payments"]["captures"][0]
    standalone = pp.get(f"/v2/payments/captures/{capture['id']}").json()
    paypal_contract("payments_payment_v2.json", "capture-2", standalone)


def test_capture_before_approval_is_order_not_approved(pp: httpx.Client) -> None:
    oid = pp.post("/v2/checkout/orders", json=order_body()).json()["id"]
    r = pp.post(f"/v2/checkout/orders/{oid}/capture")
    assert r.status_code == 422
    body = r.json()
    assert body["name"] == "UNPROCESSABLE_ENTITY" and issue(r) == "ORDER_NOT_APPROVED"
    assert body["links"][0]["href"].endswith("#error-ORDER_NOT_APPROVED")
    assert body["debug_id"] == r.headers["PayPal-Debug-Id"]


def test_capture_lands_in_the_ledger_with_the_order_reference(sb: Sandbox, pp: httpx.Client) -> None:
    oid, capture = captured(sb, pp, invoice_id="WC-7", custom_id="7")
    assert (
        capture["status"] == "COMPLETED" and capture["invoice_id"] == "WC-7" and capture["custom_id"] == "7"
    )
    breakdown = capture["seller_receivable_breakdown"]
    assert breakdown["gross_amount"]["value"] == "25.00" and breakdown["paypal_fee"]["value"] == "1.36"
    assert breakdown["net_amount"]["value"] == "23.64"  # 3.49 % + 0.49, half up
    charge = sb.call(sb.world.ledger.charge, "paypal", capture["id"])
    assert (charge.order_id, charge.amount_minor, charge.paypal_order_id, charge.status) == (
        7,
        2500,
        oid,
        "succeeded",
    )
    order = sb.call(lambda: sb.paypal.received("capture"))[-1]
    assert order["id"] == capture["id"] and order["invoice_id"] == "WC-7"


def test_second_capture_is_order_already_captured(sb: Sandbox, pp: httpx.Client) -> None:
    oid, _ = captured(sb, pp)
    r = pp.post(f"/v2/checkout/orders/{oid}/capture")
    assert r.status_code == 422 and issue(r) == "ORDER_ALREADY_CAPTURED"


def test_same_request_id_replays_the_capture_without_a_second_payment(sb: Sandbox, pp: httpx.Client) -> None:
    oid = approved_order(sb, pp)
    headers = {"PayPal-Request-Id": f"cap-{oid}"}
    first = pp.post(f"/v2/checkout/orders/{oid}/capture", headers=headers)
    again = pp.post(f"/v2/checkout/orders/{oid}/capture", headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)  # PayPal: 200 for an idempotent repeat
    capture_ids = {r.json()["purchase_units"][0]["payments"]["captures"][0]["id"] for r in (first, again)}
    assert len(capture_ids) == 1
    charges = sb.call(sb.world.ledger.charges_for, "paypal", oid)
    assert len(charges) == 1
    log = [r for r in sb.call(sb.paypal.received, "capture") if r.get("order") == oid]
    assert [r["replayed"] for r in log] == [False, True] and {r["request_id"] for r in log} == {f"cap-{oid}"}


def test_same_request_id_on_create_returns_the_first_order(pp: httpx.Client) -> None:
    headers = {"PayPal-Request-Id": "create-once-1"}
    first = pp.post("/v2/checkout/orders", json=order_body("10.00"), headers=headers)
    again = pp.post(
        "/v2/checkout/orders", json=order_body("11.00"), headers=headers
    )  # PayPal ignores the body
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]


def test_failed_request_is_not_remembered(sb: Sandbox, pp: httpx.Client) -> None:
    oid = pp.post("/v2/checkout/orders", json=order_body()).json()["id"]
    headers = {"PayPal-Request-Id": f"retry-{oid}"}
    assert pp.post(f"/v2/checkout/orders/{oid}/capture", headers=headers).status_code == 422
    sb.call(sb.paypal.approve_order, oid)
    assert pp.post(f"/v2/checkout/orders/{oid}/capture", headers=headers).status_code == 201


def test_approve_link_approves_as_the_buyer(pp: httpx.Client) -> None:
    order = pp.post("/v2/checkout/orders", json=order_body()).json()
    approve = next(link["href"] for link in order["links"] if link["rel"] == "approve")
    assert httpx.get(approve).status_code == 200
    assert pp.get(f"/v2/checkout/orders/{order['id']}").json()["status"] == "APPROVED"
    assert pp.post(f"/v2/checkout/orders/{order['id']}/capture").status_code == 201


def test_paypal_wallet_source_needs_payer_action(pp: httpx.Client) -> None:
    body = order_body() | {
        "payment_source": {"paypal": {"experience_context": {"return_url": "https://x.example"}}}
    }
    r = pp.post("/v2/checkout/orders", json=body)
    assert r.status_code == 200 and r.json()["status"] == "PAYER_ACTION_REQUIRED"
    assert "payer-action" in {link["rel"] for link in r.json()["links"]}


CARD = {"number": "4111111111111111", "expiry": "2035-12", "name": "Ann Buyer", "security_code": "123"}


def test_card_source_needs_a_request_id(pp: httpx.Client) -> None:
    r = pp.post("/v2/checkout/orders", json=order_body() | {"payment_source": {"card": CARD}})
    assert r.status_code == 400 and issue(r) == "PAYPAL_REQUEST_ID_REQUIRED"


def test_card_source_is_approved_at_creation(sb: Sandbox, pp: httpx.Client) -> None:
    r = pp.post(
        "/v2/checkout/orders",
        json=order_body(invoice_id="WC-55") | {"payment_source": {"card": CARD}},
        headers={"PayPal-Request-Id": "card-1", "Prefer": "return=representation"},
    )
    assert r.status_code == 201
    order = r.json()
    assert order["status"] == "APPROVED"
    assert order["payment_source"]["card"] == {
        "name": "Ann Buyer",
        "last_digits": "1111",
        "expiry": "2035-12",
        "brand": "VISA",
        "type": "CREDIT",
    }
    capture = pp.post(f"/v2/checkout/orders/{order['id']}/capture").json()["purchase_units"][0]["payments"][
        "captures"
    ][0]
    charge = sb.call(sb.world.ledger.charge, "paypal", capture["id"])
    assert (charge.card_brand, charge.card_last4) == ("visa", "1111")


def test_declined_card_completes_the_order_with_a_declined_capture(sb: Sandbox, pp: httpx.Client) -> None:
    card = CARD | {"name": "CCREJECT-REFUSED"}
    order = pp.post(
        "/v2/checkout/orders",
        json=order_body() | {"payment_source": {"card": card}},
        headers={"PayPal-Request-Id": "card-2"},
    ).json()
    r = pp.post(f"/v2/checkout/orders/{order['id']}/capture")
    assert r.status_code == 201 and r.json()["status"] == "COMPLETED"
    capture = r.json()["purchase_units"][0]["payments"]["captures"][0]
    assert capture["status"] == "DECLINED" and "seller_receivable_breakdown" not in capture
    assert sb.call(sb.world.ledger.charge, "paypal", capture["id"]).status == "failed"
    refund = pp.post(f"/v2/payments/captures/{capture['id']}/refund")
    assert refund.status_code == 422 and issue(refund) == "REFUND_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("body", "status", "expected_issue", "field"),
    [
        (
            {"purchase_units": [{"amount": {"currency_code": "USD", "value": "1.00"}}]},
            400,
            "MISSING_REQUIRED_PARAMETER",
            "/intent",
        ),
        ({"intent": "SALE", "purchase_units": []}, 400, "INVALID_PARAMETER_VALUE", "/intent"),
        ({"intent": "CAPTURE"}, 400, "MISSING_REQUIRED_PARAMETER", "/purchase_units"),
        (
            order_body("10.001"),
            422,
            "DECIMAL_PRECISION",
            "/purchase_units/@reference_id=='default'/amount/value",
        ),
        (
            order_body("100.5", "JPY"),
            422,
            "DECIMAL_PRECISION",
            "/purchase_units/@reference_id=='default'/amount/value",
        ),
        (
            order_body("10.00", "XYZ"),
            422,
            "INVALID_CURRENCY_CODE",
            "/purchase_units/@reference_id=='default'/amount/currency_code",
        ),
        (
            order_body("10.00", "INR"),
            422,
            "CURRENCY_NOT_SUPPORTED",
            "/purchase_units/@reference_id=='default'/amount/currency_code",
        ),
        (
            order_body("10.00", "US"),
            400,
            "INVALID_STRING_LENGTH",
            "/purchase_units/@reference_id=='default'/amount/currency_code",
        ),
        (
            order_body("ten"),
            400,
            "INVALID_PARAMETER_SYNTAX",
            "/purchase_units/@reference_id=='default'/amount/value",
        ),
        (
            order_body("-1.00"),
            422,
            "CANNOT_BE_ZERO_OR_NEGATIVE",
            "/purchase_units/@reference_id=='default'/amount/value",
        ),
        (
            order_body("0"),
            422,
            "CANNOT_BE_ZERO_OR_NEGATIVE",
            "/purchase_units/@reference_id=='default'/amount/value",
        ),
        (
            {
                "intent": "CAPTURE",
                "purchase_units": [
                    {
                        "amount": {
                            "currency_code": "USD",
                            "value": "10.00",
                            "breakdown": {"item_total": {"currency_code": "USD", "value": "8.00"}},
                        }
                    }
                ],
            },
            422,
            "AMOUNT_MISMATCH",
            "/purchase_units/@reference_id=='default'/amount/value",
        ),
        (
            {
                "intent": "AUTHORIZE",
                "purchase_units": [
                    {"reference_id": "a", "amount": {"currency_code": "USD", "value": "1.00"}},
                    {"reference_id": "b", "amount": {"currency_code": "USD", "value": "1.00"}},
                ],
            },
            422,
            "UNSUPPORTED_INTENT",
            "/intent",
        ),
    ],
)
def test_bad_orders_get_paypal_issue_names(
    pp: httpx.Client, body: dict[str, Any], status: int, expected_issue: str, field: str
) -> None:
    r = pp.post("/v2/checkout/orders", json=body)
    assert r.status_code == status, r.text
    assert issue(r) == expected_issue
    assert r.json()["details"][0]["field"] == field
    assert r.json()["name"] == ("INVALID_REQUEST" if status == 400 else "UNPROCESSABLE_ENTITY")


def test_zero_decimal_currency_prints_no_decimals(pp: httpx.Client) -> None:
    r = pp.post(
        "/v2/checkout/orders", json=order_body("1500", "JPY"), headers={"Prefer": "return=representation"}
    )
    assert r.status_code == 201 and r.json()["purchase_units"][0]["amount"] == {
        "currency_code": "JPY",
        "value": "1500",
    }


def test_numeric_amount_is_read_as_paypal_does(pp: httpx.Client) -> None:
    body = {"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": 12.5}}]}
    r = pp.post("/v2/checkout/orders", json=body, headers={"Prefer": "return=representation"})
    assert r.status_code == 201 and r.json()["purchase_units"][0]["amount"]["value"] == "12.50"


def test_malformed_json_and_wrong_media_type(sb: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {paypal_token(sb)}"}
    url = sb.urls["paypal"] + "/v2/checkout/orders"
    r = httpx.post(url, content=b"{not json", headers=headers | {"Content-Type": "application/json"})
    assert r.status_code == 400 and issue(r) == "MALFORMED_REQUEST_JSON"
    r = httpx.post(
        url,
        content=b"intent=CAPTURE",
        headers=headers | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415 and r.json()["name"] == "UNSUPPORTED_MEDIA_TYPE"


def test_unknown_order_is_resource_not_found(pp: httpx.Client) -> None:
    r = pp.get("/v2/checkout/orders/0AB12345CD6789012")
    assert r.status_code == 404
    body = r.json()
    assert body["name"] == "RESOURCE_NOT_FOUND" and issue(r) == "INVALID_RESOURCE_ID"
    assert body["details"][0]["location"] == "path"


def test_duplicate_invoice_id_is_blocked_unless_allowed(sb: Sandbox, pp: httpx.Client) -> None:
    captured(sb, pp, invoice_id="WC-424242")
    oid = approved_order(sb, pp, invoice_id="WC-424242")
    r = pp.post(f"/v2/checkout/orders/{oid}/capture")
    assert r.status_code == 422 and issue(r) == "DUPLICATE_INVOICE_ID"
    sb.call(sb.paypal.configure, block_duplicate_invoice=False)
    try:
        assert pp.post(f"/v2/checkout/orders/{oid}/capture").status_code == 201
    finally:
        sb.call(sb.paypal.configure, block_duplicate_invoice=True)


def test_seeded_orders_render_from_their_captures(sb: Sandbox, pp: httpx.Client) -> None:
    charge = next(
        c
        for c in sb.call(sb.world.ledger.charges, "paypal", status="succeeded")
        if c.order_id in sb.world.orders and not c.refunds
    )
    order = pp.get(f"/v2/checkout/orders/{charge.paypal_order_id}").json()
    assert order["status"] == "COMPLETED"
    unit = order["purchase_units"][0]
    assert unit["invoice_id"] == f"WC-{charge.order_id}" and unit["custom_id"] == str(charge.order_id)
    assert unit["payments"]["captures"][0]["id"] == charge.id
    assert sb.world.orders[charge.order_id].transaction_id == charge.id  # what WooCommerce stores


# --- Payments v2: refunds and authorizations -----------------------------------------------------------
def test_partial_refunds_until_the_capture_is_refunded(sb: Sandbox, pp: httpx.Client) -> None:
    _, capture = captured(sb, pp, invoice_id="WC-31")
    url = f"/v2/payments/captures/{capture['id']}/refund"
    first = pp.post(
        url, json={"amount": {"currency_code": "USD", "value": "10.00"}, "note_to_payer": "Damaged"}
    )
    assert first.status_code == 201 and set(first.json()) == {"id", "status", "links"}
    assert pp.get(f"/v2/payments/captures/{capture['id']}").json()["status"] == "PARTIALLY_REFUNDED"
    over = pp.post(url, json={"amount": {"currency_code": "USD", "value": "15.01"}})
    assert over.status_code == 422 and issue(over) == "REFUND_AMOUNT_EXCEEDED"
    rest = pp.post(url, headers={"Prefer": "return=representation"})  # no amount: what remains
    assert rest.status_code == 201 and rest.json()["amount"]["value"] == "15.00"
    assert rest.json()["seller_payable_breakdown"]["total_refunded_amount"]["value"] == "25.00"
    assert pp.get(f"/v2/payments/captures/{capture['id']}").json()["status"] == "REFUNDED"
    again = pp.post(url)
    assert again.status_code == 422 and issue(again) == "CAPTURE_FULLY_REFUNDED"
    refunds = sb.call(
        lambda: [(r.amount_minor, r.reason) for r in sb.world.ledger.charge("paypal", capture["id"]).refunds]
    )
    assert refunds == [(1000, "Damaged"), (1500, "")]


@needs_contracts
def test_refund_conforms_to_the_contract(sb: Sandbox, pp: httpx.Client) -> None:
    _, capture = captured(sb, pp)
    refund = pp.post(
        f"/v2/payments/captures/{capture['id']}/refund",
        json={"amount": {"currency_code": "USD", "value": "5.00"}},
        headers={"Prefer": "return=representation"},
    ).json()
    paypal_contract("payments_payment_v2.json", "refund", refund)
    assert pp.get(f"/v2/payments/refunds/{refund['id']}").json() == refund
    # PayPal gives back the percentage part of its fee pro rata: 3.49 % of 5.00.
    assert refund["seller_payable_breakdown"]["paypal_fee"]["value"] == "0.17"


@pytest.mark.parametrize(
    ("amount", "status", "expected"),
    [
        ({"currency_code": "EUR", "value": "1.00"}, 422, "REFUND_CAPTURE_CURRENCY_MISMATCH"),
        ({"currency_code": "USD", "value": "1.001"}, 422, "DECIMAL_PRECISION"),
        ({"currency_code": "USD", "value": "0.00"}, 422, "CANNOT_BE_ZERO_OR_NEGATIVE"),
        ({"currency_code": "USD"}, 400, "MISSING_REQUIRED_PARAMETER"),
    ],
)
def test_bad_refund_amounts(
    sb: Sandbox, pp: httpx.Client, amount: dict[str, str], status: int, expected: str
) -> None:
    _, capture = captured(sb, pp)
    r = pp.post(f"/v2/payments/captures/{capture['id']}/refund", json={"amount": amount})
    assert r.status_code == status and issue(r) == expected
    assert r.json()["links"][0]["href"].startswith("https://developer.paypal.com/docs/api/payments/v2/")


def test_refund_replay_with_the_same_request_id(sb: Sandbox, pp: httpx.Client) -> None:
    _, capture = captured(sb, pp)
    url = f"/v2/payments/captures/{capture['id']}/refund"
    headers = {"PayPal-Request-Id": f"refund-{capture['id']}"}
    first = pp.post(url, json={"amount": {"currency_code": "USD", "value": "3.00"}}, headers=headers)
    again = pp.post(url, json={"amount": {"currency_code": "USD", "value": "3.00"}}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    assert sb.call(lambda: len(sb.world.ledger.charge("paypal", capture["id"]).refunds)) == 1


def test_refund_of_a_seeded_capture(sb: Sandbox, pp: httpx.Client) -> None:
    charge = next(
        c
        for c in sb.call(sb.world.ledger.charges, "paypal", status="succeeded")
        if c.remaining_minor > 100 and not c.dispute
    )
    r = pp.post(
        f"/v2/payments/captures/{charge.id}/refund",
        json={"amount": {"currency_code": charge.currency, "value": "1.00"}},
    )
    assert r.status_code == 201
    assert sb.call(lambda: sb.world.ledger.refund("paypal", r.json()["id"]).charge_id) == charge.id


def test_unknown_capture_and_refund_are_not_found(pp: httpx.Client) -> None:
    for path in ("/v2/payments/captures/0AB12345CD6789012", "/v2/payments/refunds/0AB12345CD6789012"):
        r = pp.get(path)
        assert r.status_code == 404 and issue(r) == "INVALID_RESOURCE_ID"


def test_authorize_then_capture_the_authorization(sb: Sandbox, pp: httpx.Client) -> None:
    r = pp.post(
        "/v2/checkout/orders", json=order_body("40.00", invoice_id="WC-900") | {"intent": "AUTHORIZE"}
    )
    oid = r.json()["id"]
    sb.call(sb.paypal.approve_order, oid)
    wrong = pp.post(f"/v2/checkout/orders/{oid}/capture")
    assert wrong.status_code == 422 and issue(wrong) == "ACTION_DOES_NOT_MATCH_INTENT"
    order = pp.post(f"/v2/checkout/orders/{oid}/authorize").json()
    auth = order["purchase_units"][0]["payments"]["authorizations"][0]
    assert auth["status"] == "CREATED" and auth["amount"]["value"] == "40.00"
    assert not sb.call(sb.world.ledger.charges_for, "paypal", oid)  # nothing captured yet
    capture = pp.post(
        f"/v2/payments/authorizations/{auth['id']}/capture",
        json={"amount": {"currency_code": "USD", "value": "30.00"}},
    )
    assert capture.status_code == 201 and capture.json()["amount"]["value"] == "30.00"
    assert pp.get(f"/v2/payments/authorizations/{auth['id']}").json()["status"] == "CAPTURED"
    void = pp.post(f"/v2/payments/authorizations/{auth['id']}/void")
    assert void.status_code == 422 and issue(void) == "PREVIOUSLY_CAPTURED"
    charge = sb.call(sb.world.ledger.charge, "paypal", capture.json()["id"])
    assert (charge.amount_minor, charge.order_id) == (3000, 900)


def test_void_an_authorization(sb: Sandbox, pp: httpx.Client) -> None:
    oid = pp.post("/v2/checkout/orders", json=order_body() | {"intent": "AUTHORIZE"}).json()["id"]
    sb.call(sb.paypal.approve_order, oid)
    auth = pp.post(f"/v2/checkout/orders/{oid}/authorize").json()["purchase_units"][0]["payments"][
        "authorizations"
    ][0]
    assert pp.post(f"/v2/payments/authorizations/{auth['id']}/void").status_code == 204
    r = pp.post(f"/v2/payments/authorizations/{auth['id']}/capture")
    assert r.status_code == 422 and issue(r) == "AUTHORIZATION_VOIDED"


# --- the rest of the envelope --------------------------------------------------------------------------
def test_unknown_path_and_method(pp: httpx.Client) -> None:
    assert pp.get("/v2/nothing/here").status_code == 404
    r = pp.delete("/v2/checkout/orders/ABC")
    assert r.status_code == 405 and r.json()["name"] == "METHOD_NOT_SUPPORTED"


def test_faults_answer_paypal_json(sb: Sandbox, pp: httpx.Client) -> None:
    sb.set_faults("paypal", script=[503, 500])
    try:
        first, second = pp.get("/v2/checkout/orders/X"), pp.get("/v2/checkout/orders/X")
    finally:
        sb.set_faults("paypal")
    assert first.status_code == 503 and first.json()["name"] == "SERVICE_UNAVAILABLE"
    assert first.headers["Retry-After"] == "30"
    assert second.status_code == 500 and second.json()["name"] == "INTERNAL_SERVER_ERROR"


def test_admin_answer_key_and_received(sb: Sandbox) -> None:
    admin = sb.admin_url("paypal")
    doc = httpx.get(admin + "/answer-key", params={"gateway": "paypal"}).json()
    assert doc["items"] == [k for k in sb.world.answer_key() if k.get("gateway") == "paypal"]
    assert doc["items"], "a positive discrepancy rate plants PayPal breaks"
    info = httpx.get(admin + "/paypal").json()
    assert info["credentials"] == sb.credentials["paypal"]
    received = httpx.get(admin + "/paypal/received", params={"kind": "order"}).json()
    assert all(r["kind"] == "order" for r in received)
    assert httpx.patch(admin + "/paypal/settings", json={"nope": 1}).status_code == 400


def test_admin_approve_unknown_order_is_404(sb: Sandbox) -> None:
    r = httpx.post(sb.admin_url("paypal") + "/paypal/orders/NOPE/approve", json={})
    assert r.status_code == 404 and r.json()["code"] == "INVALID_RESOURCE_ID"


def test_errors_never_reach_the_stand_in_log(sb: Sandbox) -> None:
    assert sb.paypal.errors == []


def test_describe_lists_the_paypal_keys(sb: Sandbox) -> None:
    entry = sb.describe()["paypal"]
    assert set(entry) == {"base_url", "admin_url", "client_id", "client_secret", "webhook_id"}
    assert len(entry["client_id"]) == 80 and json.dumps(entry)  # JSON-ready
