"""The Authorize.Net stand-in over raw HTTP: the envelope, the XSD's order, transactions and their errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from gateway_testing import anet_post

from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

SIZES = {"products": 20, "customers": 20, "orders": 200, "seed": 13, "now": DEFAULT_END}
NS = "AnetApi/xml/v1/schema/AnetApiSchema.xsd"
CARD = {"cardNumber": "4111111111111111", "expirationDate": "2035-12", "cardCode": "123"}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("authorizenet",), **SIZES) as sandbox:
        yield sandbox


def charge(
    sb: Sandbox, amount: str, *, invoice: str, ttype: str = "authCaptureTransaction", **extra: Any
) -> dict[str, Any]:
    tr: dict[str, Any] = {"transactionType": ttype, "amount": amount, "payment": {"creditCard": CARD}}
    tr["order"] = {"invoiceNumber": invoice}
    tr.update(extra)
    return anet_post(sb, "createTransactionRequest", {"refId": f"ref-{invoice}", "transactionRequest": tr})[1]


def message(answer: dict[str, Any]) -> tuple[str, str, str]:
    m = answer["messages"]
    return m["resultCode"], m["message"][0]["code"], m["message"][0]["text"]


def test_answers_start_with_a_bom_and_are_http_200(sb: Sandbox) -> None:
    raw, answer = anet_post(sb, "authenticateTestRequest", {"refId": "abc"})
    assert raw.startswith(b"\xef\xbb\xbf{")
    assert answer == {
        "refId": "abc",
        "messages": {"resultCode": "Ok", "message": [{"code": "I00001", "text": "Successful."}]},
    }


def test_bad_credentials_are_e00007(sb: Sandbox) -> None:
    body = {
        "authenticateTestRequest": {
            "merchantAuthentication": {"name": "nobody", "transactionKey": "wrongkey"},
            "refId": "r9",
        }
    }
    _, answer = anet_post(sb, "", raw=json.dumps(body).encode())
    assert answer["refId"] == "r9"
    assert message(answer) == (
        "Error",
        "E00007",
        "User authentication failed due to invalid authentication values.",
    )


def test_members_out_of_xsd_order_are_refused_as_the_api_does(sb: Sandbox) -> None:
    creds = sb.credentials["authorizenet"]
    auth = {"name": creds["api_login_id"], "transactionKey": creds["transaction_key"]}
    tr = {
        "transactionType": "authCaptureTransaction",
        "amount": "7.77",
        "payment": {"creditCard": CARD},
        "billTo": {"zip": "85308"},
        "order": {"invoiceNumber": "1231", "description": "Some desc"},
    }
    body = {
        "createTransactionRequest": {"merchantAuthentication": auth, "refId": "123", "transactionRequest": tr}
    }
    _, answer = anet_post(sb, "", raw=json.dumps(body).encode())
    # Word for word what Authorize.Net answered for this request (AuthorizeNet/sample-code-csharp#106).
    assert message(answer) == (
        "Error",
        "E00003",
        f"The element 'transactionRequest' in namespace '{NS}' has invalid child element 'order' in "
        f"namespace "
        f"'{NS}'. List of possible elements expected: 'shipTo, customerIP, cardholderAuthentication, retail, "
        "employeeId, transactionSettings, userFields, surcharge, merchantDescriptor, subMerchant, tip, "
        f"processingOptions, subsequentAuthInformation, otherTax, shipFrom, authorizationIndicatorType' in "
        f"namespace '{NS}'.",
    )
    assert "refId" not in answer  # refused before the request was read


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"{not json", "Unexpected character encountered while parsing value"),
        (b"", "Root element is missing."),
        (b'{"fooRequest": {}}', f"The '{NS}:fooRequest' element is not declared."),
        (b'{"a": {}, "b": {}}', "There are multiple root elements."),
        (
            b'{"authenticateTestRequest": {"refId": "x"}}',
            f"The element 'authenticateTestRequest' in namespace '{NS}' has invalid child element 'refId'",
        ),
        (
            b'{"createTransactionRequest": {"merchantAuthentication": {"name": "a", "transactionKey": "b"}}}',
            "has incomplete content",
        ),
        (
            b'{"authenticateTestRequest": {"merchantAuthentication": '
            b'{"name": "a", "transactionKey": "0123456789abcdefg"}}}',
            "The actual length is greater than the MaxLength value.",
        ),
    ],
)
def test_malformed_requests_are_e00003(sb: Sandbox, raw: bytes, text: str) -> None:
    _, answer = anet_post(sb, "", raw=raw)
    result, code, said = message(answer)
    assert (result, code) == ("Error", "E00003") and text in said


def test_a_bom_before_the_request_is_accepted(sb: Sandbox) -> None:
    creds = sb.credentials["authorizenet"]
    body = {
        "authenticateTestRequest": {
            "merchantAuthentication": {
                "name": creds["api_login_id"],
                "transactionKey": creds["transaction_key"],
            }
        }
    }
    _, answer = anet_post(sb, "", raw=b"\xef\xbb\xbf" + json.dumps(body).encode())
    assert message(answer)[0] == "Ok"


def test_auth_capture_lands_in_the_ledger(sb: Sandbox) -> None:
    answer = charge(
        sb,
        "19.99",
        invoice="500100",
        customer={"email": "ann@example.com"},
        billTo={"firstName": "Ann", "lastName": "Lee"},
    )
    assert message(answer) == ("Ok", "I00001", "Successful.") and answer["refId"] == "ref-500100"
    tr = answer["transactionResponse"]
    assert tr["responseCode"] == "1" and tr["messages"] == [
        {"code": "1", "description": "This transaction has been approved."}
    ]
    assert (tr["accountNumber"], tr["accountType"]) == ("XXXX1111", "Visa") and len(tr["authCode"]) == 6
    assert list(tr)[:6] == [
        "responseCode",
        "authCode",
        "avsResultCode",
        "cvvResultCode",
        "cavvResultCode",
        "transId",
    ]
    c = sb.call(sb.world.ledger.charge, "authorizenet", tr["transId"])
    assert (c.amount_minor, c.order_id, c.status, c.captured, c.card_last4) == (
        1999,
        500100,
        "succeeded",
        True,
        "1111",
    )
    assert (c.customer_email, c.customer_name) == ("ann@example.com", "Ann Lee")


def test_declines_are_e00027_with_the_reason(sb: Sandbox) -> None:
    answer = charge(sb, "12.00", invoice="500200", billTo={"zip": "46282"})
    assert message(answer) == ("Error", "E00027", "The transaction was unsuccessful.")
    tr = answer["transactionResponse"]
    assert tr["responseCode"] == "2" and tr["errors"] == [
        {"errorCode": "2", "errorText": "This transaction has been declined."}
    ]
    assert "messages" not in tr and tr["transId"] != "0"
    assert (
        sb.call(sb.world.ledger.charge, "authorizenet", tr["transId"]).status == "failed"
    )  # declines are recorded


@pytest.mark.parametrize(
    ("card", "amount", "reason"),
    [
        ({"cardNumber": "4111111111111112", "expirationDate": "2035-12"}, "5.00", "6"),
        ({"cardNumber": "4111111111111111", "expirationDate": "2020-01"}, "5.00", "8"),
        ({"cardNumber": "4111111111111111", "expirationDate": "13/35"}, "5.00", "7"),
        ({"cardNumber": "4111111111111111", "expirationDate": "1235"}, "0.00", "5"),
        ({"cardNumber": "4111111111111111", "expirationDate": "12/2035"}, "5.001", "5"),
        ({"cardNumber": "4222222222222", "expirationDate": "2035-12"}, "27.00", "27"),
    ],
)
def test_refused_cards_and_amounts(sb: Sandbox, card: dict[str, str], amount: str, reason: str) -> None:
    tr = {"transactionType": "authCaptureTransaction", "amount": amount, "payment": {"creditCard": card}}
    _, answer = anet_post(sb, "createTransactionRequest", {"transactionRequest": tr})
    assert message(answer)[:2] == ("Error", "E00027")
    assert answer["transactionResponse"]["errors"][0]["errorCode"] == reason


def test_the_same_charge_within_two_minutes_is_a_duplicate(sb: Sandbox) -> None:
    first = charge(sb, "33.00", invoice="500300")
    again = charge(sb, "33.00", invoice="500300")
    assert first["transactionResponse"]["responseCode"] == "1"
    tr = again["transactionResponse"]
    assert tr["responseCode"] == "3" and tr["errors"][0] == {
        "errorCode": "11",
        "errorText": "A duplicate transaction has been submitted.",
    }
    assert tr["transId"] == "0"
    named = charge(
        sb,
        "33.00",
        invoice="500300",
        transactionSettings={"setting": [{"settingName": "duplicateWindow", "settingValue": "60"}]},
    )
    assert (
        named["transactionResponse"]["transId"] == first["transactionResponse"]["transId"]
    )  # names the original
    later = sb.call(sb.authorizenet.advance_clock, 121)
    assert later and charge(sb, "33.00", invoice="500300")["transactionResponse"]["responseCode"] == "1"
    dups = [r for r in sb.authorizenet.received("authCaptureTransaction") if r.get("reason") == 11]
    assert len(dups) == 2


def test_auth_only_then_prior_auth_capture_keeps_the_trans_id(sb: Sandbox) -> None:
    auth = charge(sb, "40.00", invoice="500400", ttype="authOnlyTransaction")["transactionResponse"]
    c = sb.call(sb.world.ledger.charge, "authorizenet", auth["transId"])
    assert c.status == "succeeded" and not c.captured
    tr = {"transactionType": "priorAuthCaptureTransaction", "amount": "45.00", "refTransId": auth["transId"]}
    over = anet_post(sb, "createTransactionRequest", {"transactionRequest": tr})[1]
    assert over["transactionResponse"]["errors"][0]["errorCode"] == "47"
    tr["amount"] = "35.00"
    captured = anet_post(sb, "createTransactionRequest", {"transactionRequest": tr})[1]["transactionResponse"]
    assert captured["transId"] == auth["transId"] == captured["refTransID"]
    assert (
        sb.call(lambda: sb.world.ledger.charge("authorizenet", auth["transId"]).amount_captured_minor) == 3500
    )
    again = anet_post(sb, "createTransactionRequest", {"transactionRequest": tr})[1]
    assert message(again)[0] == "Ok"
    assert again["transactionResponse"]["messages"][0] == {
        "code": "311",
        "description": "This transaction has already been captured.",
    }


def test_void_before_settlement_and_not_after(sb: Sandbox) -> None:
    tx = charge(sb, "15.00", invoice="500500")["transactionResponse"]["transId"]
    void = {"transactionType": "voidTransaction", "refTransId": tx}
    answer = anet_post(sb, "createTransactionRequest", {"transactionRequest": void})[1]
    assert message(answer)[0] == "Ok" and answer["transactionResponse"]["transId"] == tx
    assert sb.call(sb.world.ledger.charge, "authorizenet", tx).status == "canceled"
    twice = anet_post(sb, "createTransactionRequest", {"transactionRequest": void})[1]
    assert twice["transactionResponse"]["messages"][0]["code"] == "310"
    settled = next(c for c in sb.world.ledger.charges("authorizenet", status="succeeded") if c.batch_id)
    late = anet_post(
        sb, "createTransactionRequest", {"transactionRequest": void | {"refTransId": settled.id}}
    )[1]
    assert late["transactionResponse"]["errors"][0]["errorCode"] == "16"
    unknown = anet_post(
        sb, "createTransactionRequest", {"transactionRequest": void | {"refTransId": "12345"}}
    )[1]
    assert unknown["transactionResponse"]["errors"][0]["errorCode"] == "16"


def test_refunds_need_a_settled_transaction_and_its_last_four(sb: Sandbox) -> None:
    tx = charge(sb, "60.00", invoice="500600")["transactionResponse"]["transId"]

    def refund(amount: str, last4: str = "1111", ref: str = tx) -> dict[str, Any]:
        tr = {
            "transactionType": "refundTransaction",
            "amount": amount,
            "payment": {"creditCard": {"cardNumber": last4, "expirationDate": "XXXX"}},
            "refTransId": ref,
        }
        return anet_post(sb, "createTransactionRequest", {"transactionRequest": tr})[1]["transactionResponse"]

    assert refund("10.00")["errors"][0]["errorCode"] == "54"  # unsettled: void it instead
    sb.call(sb.authorizenet.settle_now)
    assert refund("10.00", last4="4242")["errors"][0]["errorCode"] == "54"  # another card
    assert refund("60.01")["errors"][0]["errorCode"] == "55"
    done = refund("10.00")
    assert done["responseCode"] == "1" and done["refTransID"] == tx and done["transId"] not in ("0", tx)
    r = sb.call(sb.world.ledger.refund, "authorizenet", done["transId"])
    assert (r.charge_id, r.amount_minor, r.batch_id) == (tx, 1000, "")
    assert refund("10.00")["errors"][0]["errorCode"] == "11"  # the same refund again, within two minutes
    assert refund("10.00", ref="99999999999")["errors"][0]["errorCode"] == "54"


def test_other_currencies_and_transaction_types(sb: Sandbox) -> None:
    tr_eur = {
        "transactionType": "authCaptureTransaction",
        "amount": "5.00",
        "currencyCode": "EUR",
        "payment": {"creditCard": CARD},
    }
    eur = anet_post(sb, "createTransactionRequest", {"transactionRequest": tr_eur})[1]["transactionResponse"]
    assert eur["errors"][0]["errorCode"] == "39"
    late = charge(sb, "5.00", invoice="500700", currencyCode="USD")  # after `order`: out of the XSD's order
    assert message(late)[1] == "E00003" and "'currencyCode'" in message(late)[2]
    tr = {"transactionType": "captureOnlyTransaction", "amount": "5.00"}
    other = anet_post(sb, "createTransactionRequest", {"transactionRequest": tr})[1]["transactionResponse"]
    assert other["errors"][0]["errorCode"] == "70"


def test_what_the_gateway_received_is_listed(sb: Sandbox) -> None:
    charge(sb, "21.00", invoice="500800")
    rows = httpx.get(
        sb.admin_url("authorizenet") + "/authorizenet/received", params={"kind": "authCaptureTransaction"}
    ).json()
    mine = [r for r in rows if r.get("invoice") == "500800"]
    assert (
        len(mine) == 1
        and mine[0]["ref_id"] == "ref-500800"
        and Decimal(mine[0]["amount"]) == Decimal("21.00")
    )


def test_faults_and_other_paths(sb: Sandbox) -> None:
    url = sb.describe()["authorizenet"]["api_url"]
    assert httpx.get(url).status_code == 405
    assert httpx.get(sb.urls["authorizenet"] + "/nope").status_code == 404
    sb.set_faults("authorizenet", script=[502])
    try:
        assert httpx.post(url, json={}).status_code == 502
    finally:
        sb.set_faults("authorizenet")
    xml = httpx.post(url, content=b"<authenticateTestRequest/>", headers={"content-type": "text/xml"})
    assert json.loads(xml.content.decode("utf-8-sig"))["messages"]["message"][0]["code"] == "E00002"
    assert sb.authorizenet.errors == []
