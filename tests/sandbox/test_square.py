"""The Square stand-in through the official `squareup` SDK: auth, versions, locations, payments, refunds,
payouts, disputes, pagination to the end, idempotency, Square's errors, the answer key, faults.

`read_sb` is shared by tests that only read (nobody creates anything in it); `sb` is a fresh sandbox for
tests that write. Both pin the world's history to `DEFAULT_END` (2026-01-01); the stand-in's clock is the
real one, so "the last year" default windows see only the newest part of the history.
"""

from __future__ import annotations

import base64
import math
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from square import Square
from square.core.api_error import ApiError
from square_contract import assert_conforms

from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

# seed 5 with 1,000 orders: 124 Square payments (more than a page of 100), and every category of
# discrepancy planted at Square that the API can show, among them an open dispute and a payout that
# does not add up.
WORLD = {
    "services": ("square",),
    "products": 30,
    "customers": 20,
    "orders": 1000,
    "seed": 5,
    "now": DEFAULT_END,
    "discrepancy_rate": 0.1,  # every category lands at Square in this world
}
ALL_TIME = "2020-01-01T00:00:00Z"


def square_client(sb: Sandbox, **kwargs: Any) -> Square:
    creds = sb.credentials["square"]
    return Square(token=creds["access_token"], base_url=sb.urls["square"], **kwargs)


def raw(sb: Sandbox, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": "Bearer " + (token or sb.credentials["square"]["access_token"])}
    headers.update(kwargs.pop("headers", {}))
    return httpx.request(method, sb.urls["square"] + path, headers=headers, timeout=10, **kwargs)


def ts(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def key() -> str:
    return str(uuid.uuid4())


def error(exc: pytest.ExceptionInfo[ApiError]) -> dict[str, Any]:
    body = exc.value.body
    assert isinstance(body, dict), body
    return body["errors"][0]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def read_sb() -> Iterator[Sandbox]:
    with run_sandbox(**WORLD) as sb:
        yield sb
        assert sb.square.errors == []  # nothing went wrong inside the stand-in


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(**WORLD) as sb:
        yield sb
        assert sb.square.errors == []


@pytest.fixture(scope="module")
def client(read_sb: Sandbox) -> Square:
    return square_client(read_sb, timeout=10)


def main_charges(sb: Sandbox) -> list[Any]:
    led = sb.world.ledger
    main = led.square_location_ids[0]
    return [c for c in led.charges("square") if c.location_id == main]


# --- auth, versions, routes -------------------------------------------------------------------------
def test_wrong_token_is_squares_401(read_sb: Sandbox) -> None:
    with pytest.raises(ApiError) as exc:
        Square(token="EAAAnot-the-token", base_url=read_sb.urls["square"]).locations.list()
    assert exc.value.status_code == 401
    assert exc.value.body == {
        "errors": [
            {
                "category": "AUTHENTICATION_ERROR",
                "code": "UNAUTHORIZED",
                "detail": "This request could not be authorized.",
            }
        ]
    }


def test_missing_or_malformed_authorization_header(read_sb: Sandbox) -> None:
    r = httpx.get(read_sb.urls["square"] + "/v2/locations")
    assert r.status_code == 401
    assert "did not include an `Authorization` http header" in r.json()["errors"][0]["detail"]
    r = raw(read_sb, "GET", "/v2/locations", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401 and "was malformed" in r.json()["errors"][0]["detail"]


def test_square_version_is_echoed(read_sb: Sandbox, client: Square) -> None:
    resp = client.locations.with_raw_response.list()
    assert resp.headers["square-version"] == "2026-09-16"  # what squareup 46 sends
    r = raw(read_sb, "GET", "/v2/locations", headers={"Square-Version": "2024-01-18"})
    assert r.status_code == 200 and r.headers["square-version"] == "2024-01-18"
    r = raw(read_sb, "GET", "/v2/locations")
    assert r.headers["square-version"] == "2025-08-20"  # the application's default
    r = raw(read_sb, "GET", "/v2/locations", headers={"Square-Version": "latest"})
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "INVALID_SQUARE_VERSION_FORMAT"


def test_unknown_route_is_squares_404(read_sb: Sandbox) -> None:
    r = raw(read_sb, "DELETE", "/v2/payments")
    assert r.status_code == 404
    assert r.json()["errors"][0] == {
        "category": "INVALID_REQUEST_ERROR",
        "code": "NOT_FOUND",
        "detail": "API endpoint for URL path `/v2/payments` and HTTP method `DELETE` is not found.",
    }


# --- locations --------------------------------------------------------------------------------------
def test_locations_are_the_ledgers_main_first(read_sb: Sandbox, client: Square) -> None:
    ids = read_sb.credentials["square"]["location_ids"]
    assert ids == read_sb.world.ledger.square_location_ids and len(ids) == 2
    listed = client.locations.list().locations or []
    assert [loc.id for loc in listed] == ids
    for lid in ids:
        loc = client.locations.get(location_id=lid).location
        assert loc is not None and loc.currency == "USD" and loc.status == "ACTIVE"
    assert client.locations.get(location_id="main").location.id == ids[0]  # type: ignore[union-attr]
    body = raw(read_sb, "GET", "/v2/locations").json()
    for loc in body["locations"]:
        assert_conforms("Location", loc)
    with pytest.raises(ApiError) as exc:
        client.locations.get(location_id="LNOSUCHPLACE1")
    assert exc.value.status_code == 404 and error(exc)["code"] == "NOT_FOUND"


# --- listing payments -------------------------------------------------------------------------------
def test_payments_pager_to_the_end_matches_the_ledger(read_sb: Sandbox, client: Square) -> None:
    expected = sorted(main_charges(read_sb), key=lambda c: (c.created, c.id), reverse=True)
    assert len(expected) > 100
    pager = client.payments.list(begin_time=ALL_TIME, limit=30)
    pages = list(pager.iter_pages())
    assert len(pages) == math.ceil(len(expected) / 30)
    got = [p.id for page in pages for p in page.items or []]
    assert got == [c.id for c in expected]  # newest first, each once
    asc = [p.id for p in client.payments.list(begin_time=ALL_TIME, sort_order="ASC")]
    assert asc == got[::-1]


def test_limit_above_100_is_ignored_not_an_error(read_sb: Sandbox, client: Square) -> None:
    page = client.payments.list(begin_time=ALL_TIME, limit=500)
    assert len(page.items or []) == 100 and page.has_next
    r = raw(read_sb, "GET", "/v2/payments", params={"begin_time": ALL_TIME, "limit": "0"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "limit"


def test_payments_default_to_the_last_year(read_sb: Sandbox, client: Square) -> None:
    listed = {p.id for p in client.payments.list()}
    year_ago = time.time() - 365 * 86_400
    for c in main_charges(read_sb):
        if c.created > year_ago + 60:
            assert c.id in listed
        elif c.created < year_ago - 60:
            assert c.id not in listed
    assert listed  # the history's last month is within a year of today


def test_begin_time_is_inclusive_end_time_exclusive(client: Square, read_sb: Sandbox) -> None:
    c = main_charges(read_sb)[40]
    around = {"begin_time": ts(c.created - 3600), "end_time": ts(c.created + 3600)}
    assert c.id in {p.id for p in client.payments.list(**around)}
    assert c.id in {p.id for p in client.payments.list(**{**around, "begin_time": ts(c.created)})}
    assert c.id not in {p.id for p in client.payments.list(**{**around, "begin_time": ts(c.created + 0.001)})}
    assert c.id not in {p.id for p in client.payments.list(**{**around, "end_time": ts(c.created)})}


def test_payment_filters(read_sb: Sandbox, client: Square) -> None:
    c = next(c for c in main_charges(read_sb) if c.status == "succeeded" and c.refunds)
    found = list(client.payments.list(begin_time=ALL_TIME, total=c.amount_minor, last4=c.card_last4))
    assert c.id in {p.id for p in found}
    assert all(p.total_money and p.total_money.amount == c.amount_minor for p in found)
    brand = {"visa": "VISA", "mastercard": "MASTERCARD", "amex": "AMERICAN_EXPRESS", "discover": "DISCOVER"}
    by_brand = list(client.payments.list(begin_time=ALL_TIME, card_brand=brand[c.card_brand]))
    assert c.id in {p.id for p in by_brand}
    assert {p.card_details.card.card_brand for p in by_brand if p.card_details and p.card_details.card} == {
        brand[c.card_brand]
    }
    # updated_at: a refund after the payment moved `updated_at`; sort_field UPDATED_AT orders by it
    moved = list(
        client.payments.list(
            begin_time=ALL_TIME,
            updated_at_begin_time=ts(c.updated),
            sort_field="UPDATED_AT",
            sort_order="ASC",
        )
    )
    assert c.id in {p.id for p in moved}
    assert [p.updated_at for p in moved] == sorted(p.updated_at or "" for p in moved)
    second = read_sb.credentials["square"]["location_ids"][1]
    assert list(client.payments.list(begin_time=ALL_TIME, location_id=second)) == []  # WooCommerce uses main


def test_payments_conform_to_the_contract(read_sb: Sandbox) -> None:
    body = raw(read_sb, "GET", "/v2/payments", params={"begin_time": ALL_TIME}).json()
    assert_conforms("ListPaymentsResponse", body)
    statuses = {p["status"] for p in body["payments"]}
    assert {"COMPLETED", "FAILED"} <= statuses
    failed = next(p for p in body["payments"] if p["status"] == "FAILED")
    assert failed["card_details"]["errors"][0]["category"] == "PAYMENT_METHOD_ERROR"
    done = next(p for p in body["payments"] if p["status"] == "COMPLETED")
    c = read_sb.world.ledger.charge("square", done["id"])
    assert done["processing_fee"][0]["amount_money"] == {"amount": c.fee_minor, "currency": "USD"}
    assert done["reference_id"] == str(c.order_id)


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        (
            {"begin_time": "2025-06-01T00:00:00Z", "end_time": "2025-05-01T00:00:00Z"},
            "INVALID_TIME_RANGE",
            "begin_time",
        ),
        ({"begin_time": "yesterday"}, "INVALID_TIME", "begin_time"),
        ({"limit": "ten"}, "EXPECTED_INTEGER", "limit"),
        ({"sort_order": "NEWEST"}, "INVALID_SORT_ORDER", "sort_order"),
        ({"sort_field": "AMOUNT"}, "INVALID_ENUM_VALUE", "sort_field"),
        ({"total": "12.50"}, "EXPECTED_INTEGER", "total"),
    ],
)
def test_bad_list_parameters(read_sb: Sandbox, params: dict[str, str], code: str, field: str) -> None:
    r = raw(read_sb, "GET", "/v2/payments", params=params)
    assert r.status_code == 400
    err = r.json()["errors"][0]
    assert (err["category"], err["code"], err["field"]) == ("INVALID_REQUEST_ERROR", code, field)


def test_unknown_location_is_not_found(client: Square) -> None:
    with pytest.raises(ApiError) as exc:
        client.payments.list(location_id="LNOSUCHPLACE1")
    assert exc.value.status_code == 404 and error(exc)["code"] == "NOT_FOUND"


def test_cursor_from_another_query_or_forged_is_invalid(read_sb: Sandbox, client: Square) -> None:
    first = client.payments.list(begin_time=ALL_TIME, limit=5)
    cursor = first.response.cursor
    assert cursor
    # the same query continues ...
    again = client.payments.list(begin_time=ALL_TIME, limit=5, cursor=cursor)
    assert again.items and again.items[0].id != first.items[0].id  # type: ignore[index]
    # ... another query, another endpoint or an edited cursor does not
    for call in (
        lambda: client.payments.list(begin_time=ALL_TIME, limit=5, cursor=cursor, sort_order="ASC"),
        lambda: client.refunds.list(begin_time=ALL_TIME, cursor=cursor),
        lambda: client.payments.list(
            begin_time=ALL_TIME, cursor=cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
        ),
        lambda: client.payments.list(
            cursor=base64.urlsafe_b64encode(b'{"q":"x","k":[1,"a"],"w":[]}').decode()
        ),
    ):
        with pytest.raises(ApiError) as exc:
            call()
        assert exc.value.status_code == 400
        assert error(exc)["code"] == "INVALID_CURSOR" and error(exc)["field"] == "cursor"


# --- payments: writes -------------------------------------------------------------------------------
def test_create_payment_lands_in_the_ledger(sb: Sandbox) -> None:
    client = square_client(sb)
    k = key()
    resp = client.payments.create(
        source_id="cnon:card-nonce-ok",
        idempotency_key=k,
        amount_money={"amount": 4321, "currency": "USD"},
        reference_id="7777",
        note="Order #7777",
        buyer_email_address="buyer@example.com",
    )
    p = resp.payment
    assert p is not None and p.status == "COMPLETED" and p.source_type == "CARD"
    assert p.location_id == sb.credentials["square"]["location_ids"][0]
    assert p.total_money is not None and (p.total_money.amount, p.total_money.currency) == (4321, "USD")
    assert p.processing_fee and p.processing_fee[0].amount_money.amount == 155  # 2.9 % + 30, half even
    c = sb.world.ledger.charge("square", p.id or "")
    assert (c.order_id, c.amount_minor, c.status, c.captured) == (7777, 4321, "succeeded", True)
    assert client.payments.get(payment_id=p.id or "").payment.reference_id == "7777"  # type: ignore[union-attr]
    assert p.id in {x.id for x in client.payments.list()}  # today is within the default window
    received = sb.call(sb.square.received, "payment")
    assert [(r["id"], r["idempotency_key"], r["replays"]) for r in received] == [(p.id, k, 0)]
    assert_conforms("Payment", sb.call(sb.square.payment_json, p.id))


def test_same_key_same_body_replays_other_body_is_refused(sb: Sandbox) -> None:
    client = square_client(sb)
    k = key()
    money = {"amount": 1000, "currency": "USD"}
    first = client.payments.create(source_id="cnon:card-nonce-ok", idempotency_key=k, amount_money=money)
    again = client.payments.create(source_id="cnon:card-nonce-ok", idempotency_key=k, amount_money=money)
    assert first.payment and again.payment and again.payment.id == first.payment.id
    with pytest.raises(ApiError) as exc:
        client.payments.create(
            source_id="cnon:card-nonce-ok",
            idempotency_key=k,
            amount_money={"amount": 1001, "currency": "USD"},
        )
    assert exc.value.status_code == 400
    assert error(exc)["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len([c for c in sb.world.ledger.charges("square") if c.amount_minor in (1000, 1001)]) == 1
    received = sb.call(sb.square.received, "payment")
    assert len(received) == 1 and received[0]["replays"] == 1
    assert sb.square.idempotency_conflicts == 1
    # the same key at another endpoint is another key
    refund = square_client(sb).refunds.refund_payment(
        idempotency_key=k, payment_id=first.payment.id or "", amount_money={"amount": 100, "currency": "USD"}
    )
    assert refund.refund is not None


def test_a_refused_request_does_not_use_up_its_key(sb: Sandbox) -> None:
    k = key()
    r = raw(sb, "POST", "/v2/payments", json={"source_id": "cnon:card-nonce-ok", "idempotency_key": k})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "amount_money"
    ok = square_client(sb).payments.create(
        source_id="cnon:card-nonce-ok", idempotency_key=k, amount_money={"amount": 250, "currency": "USD"}
    )
    assert ok.payment and ok.payment.status == "COMPLETED"


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("cnon:card-nonce-declined", "GENERIC_DECLINE"),
        ("cnon:card-nonce-rejected-cvv", "CVV_FAILURE"),
        ("cnon:card-nonce-rejected-postalcode", "ADDRESS_VERIFICATION_FAILURE"),
        ("cnon:card-nonce-rejected-expiration", "INVALID_EXPIRATION"),
    ],
)
def test_declines_answer_the_failed_payment(sb: Sandbox, source: str, code: str) -> None:
    client = square_client(sb)
    k = key()
    money = {"amount": 99_001, "currency": "USD"}
    with pytest.raises(ApiError) as exc:
        client.payments.create(source_id=source, idempotency_key=k, amount_money=money)
    assert exc.value.status_code == 400
    assert error(exc) == {
        "code": code,
        "detail": f"Authorization error: '{code}'",
        "category": "PAYMENT_METHOD_ERROR",
    }
    payment = exc.value.body["payment"]
    assert payment["status"] == "FAILED" and payment["card_details"]["status"] == "FAILED"
    assert_conforms("Payment", payment)
    assert client.payments.get(payment_id=payment["id"]).payment.status == "FAILED"  # type: ignore[union-attr]
    with pytest.raises(ApiError) as replay:  # the decline is the answer to that key
        client.payments.create(source_id=source, idempotency_key=k, amount_money=money)
    assert replay.value.body == exc.value.body


def test_used_and_unknown_nonces(sb: Sandbox) -> None:
    client = square_client(sb)
    money = {"amount": 500, "currency": "USD"}
    with pytest.raises(ApiError) as exc:
        client.payments.create(
            source_id="cnon:card-nonce-already-used", idempotency_key=key(), amount_money=money
        )
    assert exc.value.status_code == 400 and error(exc)["code"] == "CARD_TOKEN_USED"
    with pytest.raises(ApiError) as exc:
        client.payments.create(source_id="cnon:CBASEtypo", idempotency_key=key(), amount_money=money)
    assert exc.value.status_code == 404 and "Card nonce not found" in error(exc)["detail"]
    assert sb.world.ledger.charges("square", created_gte=int(time.time()) - 60) == []


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"source_id": None}, 400, "MISSING_REQUIRED_PARAMETER", "source_id"),
        ({"idempotency_key": None}, 400, "MISSING_REQUIRED_PARAMETER", "idempotency_key"),
        ({"idempotency_key": ""}, 400, "VALUE_EMPTY", "idempotency_key"),
        ({"idempotency_key": "k" * 46}, 400, "VALUE_TOO_LONG", "idempotency_key"),
        (
            {"amount_money": {"amount": 12.5, "currency": "USD"}},
            400,
            "EXPECTED_INTEGER",
            "amount_money.amount",
        ),
        (
            {"amount_money": {"amount": "12.50", "currency": "USD"}},
            400,
            "EXPECTED_INTEGER",
            "amount_money.amount",
        ),
        ({"amount_money": {"amount": 0, "currency": "USD"}}, 400, "VALUE_TOO_LOW", "amount_money.amount"),
        ({"amount_money": {"amount": 100}}, 400, "MISSING_REQUIRED_PARAMETER", "amount_money.currency"),
        (
            {"amount_money": {"amount": 100, "currency": "XYZ"}},
            400,
            "INVALID_ENUM_VALUE",
            "amount_money.currency",
        ),
        ({"amount_money": {"amount": 100, "currency": "EUR"}}, 400, "INVALID_VALUE", "amount_money.currency"),
        ({"autocomplete": "yes"}, 400, "EXPECTED_BOOLEAN", "autocomplete"),
        ({"reference_id": "r" * 41}, 400, "VALUE_TOO_LONG", "reference_id"),
        ({"location_id": "LNOSUCHPLACE1"}, 404, "NOT_FOUND", "location_id"),
    ],
)
def test_bad_payment_bodies(
    read_sb: Sandbox, change: dict[str, Any], status: int, code: str, field: str
) -> None:
    body = {
        "source_id": "cnon:card-nonce-ok",
        "idempotency_key": key(),
        "amount_money": {"amount": 100, "currency": "USD"},
    }
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    before = len(read_sb.world.ledger.charges("square"))
    r = raw(read_sb, "POST", "/v2/payments", json=body)
    assert r.status_code == status, r.text
    err = r.json()["errors"][0]
    assert (err["code"], err.get("field")) == (code, field)
    assert len(read_sb.world.ledger.charges("square")) == before


def test_non_json_bodies_are_refused(read_sb: Sandbox) -> None:
    r = raw(
        read_sb, "POST", "/v2/payments", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "BAD_REQUEST"
    r = raw(read_sb, "POST", "/v2/payments", json=[1, 2])
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "EXPECTED_JSON_BODY"
    assert read_sb.square.errors == []


def test_proto3_integer_strings_are_amounts(sb: Sandbox) -> None:
    body = {
        "source_id": "cnon:card-nonce-ok",
        "idempotency_key": key(),
        "amount_money": {"amount": "1250", "currency": "USD"},
    }
    r = raw(sb, "POST", "/v2/payments", json=body)
    assert r.status_code == 200 and r.json()["payment"]["amount_money"] == {"amount": 1250, "currency": "USD"}


def test_authorise_then_complete_or_cancel(sb: Sandbox) -> None:
    client = square_client(sb)
    money = {"amount": 2000, "currency": "USD"}
    held = client.payments.create(
        source_id="cnon:card-nonce-ok", idempotency_key=key(), amount_money=money, autocomplete=False
    )
    assert held.payment and held.payment.status == "APPROVED" and not held.payment.processing_fee
    pid = held.payment.id or ""
    done = client.payments.complete(payment_id=pid).payment
    assert (
        done and done.status == "COMPLETED" and done.card_details and done.card_details.status == "CAPTURED"
    )
    assert sb.world.ledger.charge("square", pid).captured
    with pytest.raises(ApiError) as exc:
        client.payments.complete(payment_id=pid)
    assert error(exc)["code"] == "DELAYED_TRANSACTION_CAPTURED"
    with pytest.raises(ApiError) as exc:
        client.payments.cancel(payment_id=pid)
    assert error(exc)["code"] == "DELAYED_TRANSACTION_CAPTURED"

    other = client.payments.create(
        source_id="cnon:card-nonce-ok", idempotency_key=key(), amount_money=money, autocomplete=False
    )
    canceled = client.payments.cancel(payment_id=other.payment.id or "").payment  # type: ignore[union-attr]
    assert canceled and canceled.status == "CANCELED" and canceled.card_details.status == "VOIDED"  # type: ignore[union-attr]

    k = key()
    lost = client.payments.create(
        source_id="cnon:card-nonce-ok", idempotency_key=k, amount_money=money, autocomplete=False
    )
    assert client.payments.cancel_by_idempotency_key(idempotency_key=k) is not None
    assert client.payments.get(payment_id=lost.payment.id or "").payment.status == "CANCELED"  # type: ignore[union-attr]
    client.payments.cancel_by_idempotency_key(idempotency_key=key())  # nothing made with it: a no-op
    with pytest.raises(ApiError) as exc:
        client.payments.get(payment_id="noSuchPayment")
    assert exc.value.status_code == 404
    assert error(exc)["detail"] == "Could not find payment with id: noSuchPayment"


def test_payment_at_the_second_location(sb: Sandbox) -> None:
    client = square_client(sb)
    second = sb.credentials["square"]["location_ids"][1]
    made = client.payments.create(
        source_id="cnon:card-nonce-ok",
        idempotency_key=key(),
        amount_money={"amount": 700, "currency": "USD"},
        location_id=second,
    )
    assert made.payment and made.payment.location_id == second
    assert [p.id for p in client.payments.list(location_id=second)] == [made.payment.id]
    assert made.payment.id not in {p.id for p in client.payments.list()}  # main only by default


# --- refunds ----------------------------------------------------------------------------------------
def test_refund_is_pending_then_completed(sb: Sandbox) -> None:
    client = square_client(sb)
    p = client.payments.create(
        source_id="cnon:card-nonce-ok",
        idempotency_key=key(),
        amount_money={"amount": 3000, "currency": "USD"},
    ).payment
    assert p is not None
    k = key()
    made = client.refunds.refund_payment(
        idempotency_key=k,
        payment_id=p.id or "",
        amount_money={"amount": 1200, "currency": "USD"},
        reason="Damaged",
    ).refund
    assert made is not None and made.status == "PENDING" and made.payment_id == p.id
    assert made.id and made.id.startswith(p.id or "")  # Square's refund ids start with the payment's
    sb.call(sb.square.flush)
    got = client.refunds.get(refund_id=made.id).refund
    assert got is not None and got.status == "COMPLETED" and got.reason == "Damaged"
    payment = client.payments.get(payment_id=p.id or "").payment
    assert payment and payment.refunded_money and payment.refunded_money.amount == 1200
    assert payment.refund_ids == [made.id]
    assert sb.world.ledger.refund("square", made.id).status == "succeeded"
    assert [(r["id"], r["idempotency_key"]) for r in sb.call(sb.square.received, "refund")] == [(made.id, k)]
    assert_conforms("PaymentRefund", sb.call(sb.square.refund_json, made.id))

    # more than remains (3000 - 1200) is refused, and nothing is refunded
    with pytest.raises(ApiError) as exc:
        client.refunds.refund_payment(
            idempotency_key=key(), payment_id=p.id or "", amount_money={"amount": 1801, "currency": "USD"}
        )
    assert exc.value.status_code == 400
    assert (error(exc)["category"], error(exc)["code"]) == ("REFUND_ERROR", "REFUND_AMOUNT_INVALID")
    rest = client.refunds.refund_payment(
        idempotency_key=key(), payment_id=p.id or "", amount_money={"amount": 1800, "currency": "USD"}
    )
    assert rest.refund and rest.refund.amount_money.amount == 1800  # type: ignore[union-attr]
    assert sb.world.ledger.charge("square", p.id or "").refunded


def test_refund_idempotency_and_refusals(sb: Sandbox) -> None:
    client = square_client(sb)
    money = {"amount": 900, "currency": "USD"}
    p = client.payments.create(
        source_id="cnon:card-nonce-ok", idempotency_key=key(), amount_money=money
    ).payment
    assert p is not None
    k = key()
    one = client.refunds.refund_payment(
        idempotency_key=k, payment_id=p.id or "", amount_money={"amount": 100, "currency": "USD"}
    )
    two = client.refunds.refund_payment(
        idempotency_key=k, payment_id=p.id or "", amount_money={"amount": 100, "currency": "USD"}
    )
    assert one.refund and two.refund and one.refund.id == two.refund.id
    with pytest.raises(ApiError) as exc:
        client.refunds.refund_payment(
            idempotency_key=k, payment_id=p.id or "", amount_money={"amount": 101, "currency": "USD"}
        )
    assert error(exc)["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(sb.world.ledger.charge("square", p.id or "").refunds) == 1

    held = client.payments.create(
        source_id="cnon:card-nonce-ok", idempotency_key=key(), amount_money=money, autocomplete=False
    ).payment
    cases = [
        (held.id, {"amount": 100, "currency": "USD"}, 400, "REFUND_ERROR_PAYMENT_NEEDS_COMPLETION"),  # type: ignore[union-attr]
        ("noSuchPayment", {"amount": 100, "currency": "USD"}, 404, "NOT_FOUND"),
        (p.id, {"amount": 100, "currency": "CAD"}, 400, "INVALID_VALUE"),
        (p.id, {"amount": -5, "currency": "USD"}, 400, "VALUE_TOO_LOW"),
    ]
    for payment_id, amount, status, code in cases:
        with pytest.raises(ApiError) as exc:
            client.refunds.refund_payment(
                idempotency_key=key(), payment_id=payment_id or "", amount_money=amount
            )
        assert (exc.value.status_code, error(exc)["code"]) == (status, code)
    failed = next(c for c in main_charges(sb) if c.status == "failed")
    with pytest.raises(ApiError) as exc:
        client.refunds.refund_payment(
            idempotency_key=key(), payment_id=failed.id, amount_money={"amount": 1, "currency": "USD"}
        )
    assert error(exc)["code"] == "PAYMENT_NOT_REFUNDABLE"
    disputed = next(d for d in sb.world.ledger.disputes("square") if d.status == "open")
    with pytest.raises(ApiError) as exc:
        client.refunds.refund_payment(
            idempotency_key=key(),
            payment_id=disputed.charge_id,
            amount_money={"amount": 1, "currency": "USD"},
        )
    assert error(exc)["code"] == "PAYMENT_NOT_REFUNDABLE_DUE_TO_DISPUTE"


def test_refunds_pager_to_the_end(read_sb: Sandbox, client: Square) -> None:
    expected = sorted(read_sb.world.ledger.refunds("square"), key=lambda r: (r.created, r.id), reverse=True)
    got = [r.id for r in client.refunds.list(begin_time=ALL_TIME, limit=7)]
    assert got == [r.id for r in expected] and len(got) > 7
    assert [r.id for r in client.refunds.list(begin_time=ALL_TIME, status="PENDING")] == []
    body = raw(read_sb, "GET", "/v2/refunds", params={"begin_time": ALL_TIME}).json()
    assert_conforms("ListPaymentRefundsResponse", body)
    assert {r["status"] for r in body["refunds"]} == {"COMPLETED"}
    with pytest.raises(ApiError) as exc:
        client.refunds.get(refund_id="nope")
    assert exc.value.status_code == 404


# --- payouts ----------------------------------------------------------------------------------------
def test_payouts_and_entries_to_the_end(read_sb: Sandbox, client: Square) -> None:
    led = read_sb.world.ledger
    main = led.square_location_ids[0]
    payouts = list(client.payouts.list(begin_time=ALL_TIME, limit=9))
    expected = sorted(
        (p for p in led.payouts("square") if p.location_id == main),
        key=lambda p: (p.created, p.id),
        reverse=True,
    )
    assert [p.id for p in payouts] == [p.id for p in expected] and len(payouts) > 9
    assert {p.status for p in payouts} <= {"PAID", "SENT"}
    assert [p.id for p in client.payouts.list(begin_time=ALL_TIME, status="SENT")] == [
        p.id for p in expected if p.status == "in_transit"
    ]
    busiest = max(expected, key=lambda p: len(p.entries))
    entries = list(client.payouts.list_entries(payout_id=busiest.id, limit=2))
    assert len(entries) == len(busiest.entries) > 2
    assert {e.id for e in entries} == {e.id for e in busiest.entries}
    body = raw(read_sb, "GET", f"/v2/payouts/{busiest.id}/payout-entries").json()
    assert_conforms("ListPayoutEntriesResponse", body)
    assert_conforms("GetPayoutResponse", raw(read_sb, "GET", f"/v2/payouts/{busiest.id}").json())
    with pytest.raises(ApiError) as exc:
        client.payouts.get(payout_id="po_nope")
    assert exc.value.status_code == 404
    # ListPayouts documents that changed parameters only risk duplicates: its cursor is not bound
    first = client.payouts.list(begin_time=ALL_TIME, limit=3)
    assert client.payouts.list(begin_time=ALL_TIME, limit=4, cursor=first.response.cursor).items


def _net_of_entries(client: Square, payout_id: str) -> int:
    total = 0
    for e in client.payouts.list_entries(payout_id=payout_id):
        assert e.net_amount_money is not None and e.gross_amount_money and e.fee_amount_money
        assert e.net_amount_money.amount == e.gross_amount_money.amount - e.fee_amount_money.amount  # type: ignore[operator]
        total += e.net_amount_money.amount or 0
    return total


def test_answer_key_items_are_visible_through_the_api(read_sb: Sandbox, client: Square) -> None:
    doc = httpx.get(read_sb.admin_url("square") + "/answer-key", params={"gateway": "square"}).json()
    items = doc["items"]
    cats = {i["category"] for i in items}
    assert {"open_dispute", "payout_mismatch", "refund_not_mirrored", "duplicate_charge"} <= cats
    for item in items:
        gid = item["gateway_id"]
        if item["category"] == "payout_mismatch":
            p = client.payouts.get(payout_id=gid).payout
            assert p and p.amount_money and p.amount_money.amount != _net_of_entries(client, gid)
        elif item["category"] == "open_dispute":
            d = client.disputes.get(dispute_id=gid).dispute
            assert d and d.state == "EVIDENCE_REQUIRED" and d.disputed_payment
            assert d.disputed_payment.payment_id == read_sb.world.ledger.dispute("square", gid).charge_id
        elif item["category"] == "refund_not_mirrored":
            assert client.refunds.get(refund_id=gid).refund.status == "COMPLETED"  # type: ignore[union-attr]
        elif item["category"] == "missing_payment":
            with pytest.raises(ApiError):
                client.payments.get(payment_id=gid)
        else:
            assert client.payments.get(payment_id=gid).payment.id == gid  # type: ignore[union-attr]
    # every other payout adds up
    planted = {i["gateway_id"] for i in items if i["category"] == "payout_mismatch"}
    some = [p for p in client.payouts.list(begin_time=ALL_TIME) if p.id not in planted][:5]
    for p in some:
        fee = sum(f.amount_money.amount or 0 for f in p.payout_fee or [] if f.amount_money)
        assert p.amount_money and p.amount_money.amount == _net_of_entries(client, p.id or "") - fee


def test_disputes(read_sb: Sandbox, client: Square) -> None:
    led = read_sb.world.ledger
    listed = list(client.disputes.list())
    assert {d.id for d in listed} == {d.id for d in led.disputes("square")}
    states = {d.id: d.state for d in listed}
    for d in led.disputes("square"):
        assert states[d.id] == {"open": "EVIDENCE_REQUIRED", "won": "WON", "lost": "LOST"}[d.status]
    assert {d.id for d in client.disputes.list(states="WON")} == {
        d.id for d in led.disputes("square") if d.status == "won"
    }
    body = raw(read_sb, "GET", "/v2/disputes").json()
    assert_conforms("ListDisputesResponse", body)
    with pytest.raises(ApiError) as exc:
        client.disputes.get(dispute_id="nope")
    assert exc.value.status_code == 404


# --- faults, admin ---------------------------------------------------------------------------------
def test_faults_answer_in_squares_json(sb: Sandbox) -> None:
    client = square_client(sb)
    no_retry: Any = {"max_retries": 0}
    sb.set_faults("square", script=[429, 500, 502])
    with pytest.raises(ApiError) as exc:
        client.locations.list(request_options=no_retry)
    assert exc.value.status_code == 429 and error(exc)["code"] == "RATE_LIMITED"
    assert exc.value.headers and "retry-after" in {k.lower() for k in exc.value.headers}
    with pytest.raises(ApiError) as exc:
        client.locations.list(request_options=no_retry)
    assert exc.value.status_code == 500 and error(exc)["code"] == "INTERNAL_SERVER_ERROR"
    with pytest.raises(ApiError) as exc:  # the CDN in front answers HTML
        client.locations.list(request_options=no_retry)
    assert exc.value.status_code == 502 and isinstance(exc.value.body, str)
    assert client.locations.list().locations


def test_admin_lists_what_was_received(sb: Sandbox) -> None:
    client = square_client(sb)
    k = key()
    made = client.payments.create(
        source_id="cnon:card-nonce-ok", idempotency_key=k, amount_money={"amount": 100, "currency": "USD"}
    )
    client.payments.create(
        source_id="cnon:card-nonce-ok", idempotency_key=k, amount_money={"amount": 100, "currency": "USD"}
    )
    doc = httpx.get(sb.admin_url("square") + "/square/received").json()
    assert doc["idempotency_conflicts"] == 0
    assert [(p["id"], p["idempotency_key"], p["replays"]) for p in doc["payments"]] == [
        (made.payment.id, k, 1)
    ]  # type: ignore[union-attr]
    assert doc["payments"][0]["request"]["amount_money"] == {"amount": 100, "currency": "USD"}
    assert httpx.get(sb.admin_url("square") + "/square/received", params={"kind": "nope"}).status_code == 400
    info = httpx.get(sb.admin_url("square") + "/square").json()
    assert info["credentials"] == sb.credentials["square"]
