"""PayPal Transaction Search over raw HTTP: validation, rows as PayPal codes them, paging, lag, contract."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from gateway_testing import CONTRACTS_MISSING, paypal_contract, paypal_http

from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

SIZES = {
    "products": 40,
    "customers": 30,
    "orders": 400,
    "seed": 5,
    "now": DEFAULT_END,
    "discrepancy_rate": 0.2,
}
PATH = "/v1/reporting/transactions"


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("paypal",), **SIZES) as sandbox:
        yield sandbox


@pytest.fixture
def pp(sb: Sandbox) -> Iterator[httpx.Client]:
    with paypal_http(sb) as client:
        yield client


def search(pp: httpx.Client, start: float, end: float, **params: Any) -> httpx.Response:
    return pp.get(PATH, params={"start_date": iso(start), "end_date": iso(end), **params})


def all_rows(pp: httpx.Client, start: float, end: float, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        body = search(pp, start, end, page=page, **params).json()
        rows += body["transaction_details"]
        if page >= body["total_pages"]:
            return rows
        page += 1


WINDOW = (DEFAULT_END - 31 * 86_400, DEFAULT_END - 1)


def test_rows_are_the_ledger_in_the_window(sb: Sandbox, pp: httpx.Client) -> None:
    ledger = sb.world.ledger
    start, end = WINDOW
    captures = [
        c for c in ledger.charges("paypal", created_gte=start, created_lt=end + 1) if c.status == "succeeded"
    ]
    refunds = ledger.refunds("paypal", created_gte=start, created_lt=end + 1)
    holds = [d for d in ledger.disputes("paypal") if start <= d.created <= end]
    releases = [d for d in ledger.disputes("paypal") if d.closed and start <= d.closed <= end]
    rows = all_rows(pp, start, end, page_size=7)
    codes = [r["transaction_info"]["transaction_event_code"] for r in rows]
    assert codes.count("T0006") == len(captures) and captures
    assert codes.count("T1107") == len(refunds)
    assert codes.count("T1110") == len(holds) and codes.count("T1111") == len(releases)
    assert len(rows) == len(captures) + len(refunds) + len(holds) + len(releases)
    first = search(pp, start, end, page_size=7).json()
    assert first["total_items"] == len(rows) and first["total_pages"] == math.ceil(len(rows) / 7)
    dates = [r["transaction_info"]["transaction_initiation_date"] for r in rows]
    assert dates == sorted(dates)


def test_capture_rows_carry_the_order_and_a_negative_fee(sb: Sandbox, pp: httpx.Client) -> None:
    start, end = WINDOW
    charges = {c.id: c for c in sb.world.ledger.charges("paypal", created_gte=start, created_lt=end + 1)}
    for row in all_rows(pp, start, end, page_size=500, transaction_type="T0006"):
        info = row["transaction_info"]
        c = charges[info["transaction_id"]]
        assert info["transaction_amount"] == {
            "currency_code": c.currency,
            "value": f"{c.amount_minor / 100:.2f}",
        }
        assert info["fee_amount"]["value"] == f"-{c.fee_minor / 100:.2f}"  # fees are debits
        assert (info["paypal_reference_id"], info["paypal_reference_id_type"]) == (c.paypal_order_id, "ODR")
        if c.order_id is not None:
            assert info["invoice_id"] == f"WC-{c.order_id}" and info["custom_field"] == str(c.order_id)
        expected = "V" if c.remaining_minor == 0 else ("F" if c.refunds else "S")
        assert info["transaction_status"] == expected
        assert info["transaction_initiation_date"].endswith("+0000")


def test_refund_rows_are_negative_with_the_fee_given_back(sb: Sandbox, pp: httpx.Client) -> None:
    refund = sb.world.ledger.refunds("paypal")[-1]
    rows = all_rows(pp, refund.created - 86_400, refund.created + 86_400, transaction_id=refund.id)
    assert len(rows) == 1
    info = rows[0]["transaction_info"]
    assert info["transaction_event_code"] == "T1107"
    assert info["transaction_amount"]["value"] == f"-{refund.amount_minor / 100:.2f}"
    assert info["paypal_reference_id"] == refund.charge_id and info["paypal_reference_id_type"] == "TXN"
    if refund.fee_returned_minor:
        assert info["fee_amount"]["value"] == f"{refund.fee_returned_minor / 100:.2f}"


def test_transaction_id_filter_finds_the_capture(sb: Sandbox, pp: httpx.Client) -> None:
    c = sb.world.ledger.charges("paypal", status="succeeded")[3]
    rows = all_rows(pp, c.created - 3600, c.created + 3600, transaction_id=c.id)
    assert [r["transaction_info"]["transaction_id"] for r in rows] == [c.id]


def test_fields_default_to_transaction_info(pp: httpx.Client) -> None:
    start, end = WINDOW
    rows = search(pp, start, end).json()["transaction_details"]
    assert rows and all(set(r) == {"transaction_info"} for r in rows)
    some = search(pp, start, end, fields="transaction_info,payer_info").json()["transaction_details"]
    assert all(set(r) == {"transaction_info", "payer_info"} for r in some)
    full = search(pp, start, end, fields="all").json()["transaction_details"]
    assert set(full[0]) == {
        "transaction_info",
        "payer_info",
        "shipping_info",
        "auction_info",
        "cart_info",
        "incentive_info",
        "store_info",
    }
    assert full[0]["payer_info"]["email_address"]


@pytest.mark.skipif(CONTRACTS_MISSING, reason="PayPal's OpenAPI contracts are not available")
def test_response_conforms_to_the_contract(pp: httpx.Client) -> None:
    start, end = WINDOW
    body = search(pp, start, end, fields="all", page_size=20).json()
    assert body["transaction_details"]
    paypal_contract("reporting_transactions_v1.json", "search_response", body, relax_dates=True)
    assert set(body) == {
        "transaction_details",
        "account_number",
        "start_date",
        "end_date",
        "last_refreshed_datetime",
        "page",
        "total_items",
        "total_pages",
        "links",
    }


def test_more_than_31_days_is_invalid_request(pp: httpx.Client) -> None:
    r = pp.get(PATH, params={"start_date": "2025-10-01T00:00:00Z", "end_date": "2025-11-01T00:00:01Z"})
    assert r.status_code == 400
    body = r.json()
    assert body["name"] == "INVALID_REQUEST" and body["message"] == "Invalid request - see details."
    assert body["details"] == [
        {
            "field": "end_date",
            "value": "2025-11-01T00:00:01Z",
            "location": "query",
            "issue": "Date range is greater than 31 days",
        }
    ]
    ok = pp.get(PATH, params={"start_date": "2025-10-01T00:00:00Z", "end_date": "2025-11-01T00:00:00Z"})
    assert ok.status_code == 200  # exactly 31 days is allowed


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end_date": "2025-11-01T00:00:00Z"}, "start_date"),
        ({"start_date": "2025-11-01T00:00:00Z"}, "end_date"),
        ({"start_date": "2025-11-01T00:00Z", "end_date": "2025-11-02T00:00:00Z"}, "start_date"),
        ({"start_date": "2025-11-02T00:00:00Z", "end_date": "2025-11-01T00:00:00Z"}, "end_date"),
        ({"page_size": "501"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"page": "0"}, "page"),
        ({"fields": "transaction_info,secrets"}, "fields"),
        ({"transaction_id": "SHORT"}, "transaction_id"),
        ({"transaction_status": "X"}, "transaction_status"),
    ],
)
def test_bad_parameters_name_their_field(pp: httpx.Client, params: dict[str, str], field: str) -> None:
    query = {"start_date": "2025-11-01T00:00:00Z", "end_date": "2025-11-02T00:00:00Z"} | params
    if "start_date" not in params and "end_date" in params and len(params) == 1:
        query.pop("start_date")
    if "end_date" not in params and "start_date" in params and len(params) == 1:
        query.pop("end_date")
    r = pp.get(PATH, params=query)
    assert r.status_code == 400 and r.json()["details"][0]["field"] == field


def test_offsets_without_a_colon_are_read_as_paypal_does(pp: httpx.Client) -> None:
    r = pp.get(
        PATH, params={"start_date": "2025-12-01T00:00:00-0700", "end_date": "2025-12-05T23:59:59-0700"}
    )
    assert r.status_code == 200 and r.json()["start_date"] == "2025-12-01T07:00:00+0000"


def test_history_older_than_three_years_is_unavailable(pp: httpx.Client) -> None:
    r = pp.get(PATH, params={"start_date": "2020-01-01T00:00:00Z", "end_date": "2020-01-02T00:00:00Z"})
    assert r.status_code == 400
    assert (
        r.json()["message"] == "Data for the given start date is not available." and r.json()["details"] == []
    )


def test_pages_past_the_end_are_empty_and_links_page_forward(pp: httpx.Client) -> None:
    start, end = WINDOW
    first = search(pp, start, end, page_size=2).json()
    assert "next" in {link["rel"] for link in first["links"]}
    last = search(pp, start, end, page_size=2, page=first["total_pages"]).json()
    assert "next" not in {link["rel"] for link in last["links"]}
    beyond = search(pp, start, end, page_size=2, page=first["total_pages"] + 1).json()
    assert beyond["transaction_details"] == []


def test_disputes_and_declines_as_paypal_codes_them() -> None:
    with run_sandbox(
        services=("paypal",), products=10, customers=5, orders=20, seed=3, now=DEFAULT_END
    ) as sb:
        with paypal_http(sb) as pp:
            admin = sb.admin_url("paypal") + "/paypal"
            body = {
                "intent": "CAPTURE",
                "purchase_units": [{"amount": {"currency_code": "USD", "value": "50.00"}}],
            }
            wallet = pp.post("/v2/checkout/orders", json=body).json()["id"]
            sb.call(sb.paypal.approve_order, wallet)
            wallet_capture = pp.post(f"/v2/checkout/orders/{wallet}/capture").json()
            wallet_id = wallet_capture["purchase_units"][0]["payments"]["captures"][0]["id"]
            card = {"number": "4111111111111111", "expiry": "2035-01", "name": "Card Holder"}
            headers = {"PayPal-Request-Id": "card-order"}
            card_order = pp.post(
                "/v2/checkout/orders", json=body | {"payment_source": {"card": card}}, headers=headers
            )
            card_id = pp.post(f"/v2/checkout/orders/{card_order.json()['id']}/capture").json()
            card_id = card_id["purchase_units"][0]["payments"]["captures"][0]["id"]
            declined = {"number": "4111111111111111", "expiry": "2035-01", "name": "CCREJECT-DECLINE"}
            dec = pp.post(
                "/v2/checkout/orders",
                json=body | {"payment_source": {"card": declined}},
                headers={"PayPal-Request-Id": "dec"},
            )
            pp.post(f"/v2/checkout/orders/{dec.json()['id']}/capture")
            d1 = httpx.post(
                f"{admin}/captures/{wallet_id}/dispute", json={"reason": "product_not_received"}
            ).json()
            d2 = httpx.post(f"{admin}/captures/{card_id}/dispute", json={}).json()
            httpx.post(f"{admin}/disputes/{d1['dispute_id']}/resolve", json={"outcome": "won"})
            httpx.post(f"{admin}/disputes/{d2['dispute_id']}/resolve", json={"outcome": "won"})
            now = sb.call(sb.paypal.advance_clock, 0)
            codes = [r["transaction_info"]["transaction_event_code"] for r in all_rows(pp, now - 3600, now)]
            assert sorted(codes) == ["T0006", "T0006", "T1110", "T1111", "T1201", "T1202"]
            everything = all_rows(pp, now - 3600, now, balance_affecting_records_only="N")
            statuses = [r["transaction_info"]["transaction_status"] for r in everything]
            assert statuses.count("D") == 1 and len(everything) == 7


def test_reporting_lag_delays_new_rows() -> None:
    with run_sandbox(
        services=("paypal",), products=10, customers=5, orders=20, seed=3, now=DEFAULT_END
    ) as sb:
        sb.call(sb.paypal.configure, reporting_lag_hours=3)
        with paypal_http(sb) as pp:
            body = {
                "intent": "CAPTURE",
                "purchase_units": [{"amount": {"currency_code": "USD", "value": "5.00"}}],
            }
            oid = pp.post("/v2/checkout/orders", json=body).json()["id"]
            sb.call(sb.paypal.approve_order, oid)
            pp.post(f"/v2/checkout/orders/{oid}/capture")
            now = sb.call(sb.paypal.advance_clock, 0)
            assert search(pp, now - 3600, now).json()["total_items"] == 0  # not reported yet
            later = sb.call(sb.paypal.advance_clock, 3 * 3600)
            assert search(pp, now - 3600, later).json()["total_items"] == 1


def test_every_planted_paypal_break_is_what_the_api_serves(sb: Sandbox, pp: httpx.Client) -> None:
    doc = httpx.get(sb.admin_url("paypal") + "/answer-key", params={"gateway": "paypal"}).json()
    items = doc["items"]
    assert len({i["category"] for i in items}) >= 6
    ledger = sb.world.ledger
    for item in items:
        gid, order_id = item["gateway_id"], item["order_id"]
        if item["category"] == "missing_payment":
            assert pp.get(f"/v2/payments/captures/{gid}").status_code == 404
        elif item["category"] == "refund_not_mirrored":
            refund = pp.get(f"/v2/payments/refunds/{gid}").json()
            assert refund["invoice_id"] == f"WC-{order_id}"
            created = ledger.refund("paypal", gid).created
            rows = all_rows(pp, created - 60, created + 60, transaction_id=gid)
            assert [r["transaction_info"]["transaction_event_code"] for r in rows] == ["T1107"]
        elif item["category"] == "open_dispute":
            d = ledger.dispute("paypal", gid)
            rows = all_rows(pp, d.created - 60, d.created + 60, transaction_type="T1110")
            assert d.charge_id in {r["transaction_info"]["paypal_reference_id"] for r in rows}
        else:
            capture = pp.get(f"/v2/payments/captures/{gid}").json()
            charge = ledger.charge("paypal", gid)
            assert capture["amount"]["value"] == f"{charge.amount_minor / 100:.2f}"
            assert capture["amount"]["currency_code"] == charge.currency
            if item["category"] == "missing_order" and order_id is None:
                assert "invoice_id" not in capture  # names no order at all
            elif order_id is not None:
                assert capture["invoice_id"] == f"WC-{order_id}"
