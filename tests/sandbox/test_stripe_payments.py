"""The Stripe stand-in's payments through the official SDK: customers, payment methods, payment intents
(confirm, decline, manual capture, cancel), charges, refunds, and the errors each answers as Stripe does."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import stripe
from stripe_sandbox import stripe_http, stripe_sdk

from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(
        services=("stripe",), products=20, customers=20, orders=120, seed=5, now=DEFAULT_END
    ) as s:
        yield s


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> stripe.StripeClient:
    return stripe_sdk(sb)


def _pay(client: stripe.StripeClient, pm: str = "pm_card_visa", **params: object) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={"amount": 2500, "currency": "usd", "payment_method": pm, "confirm": True, **params}  # type: ignore[typeddict-item]
    )


# --- auth and the envelope -----------------------------------------------------------------------------
def test_bearer_and_basic_auth_with_the_secret_key(sb: Sandbox) -> None:
    key = sb.credentials["stripe"]["api_key"]
    with stripe_http(sb, headers={}) as http:
        assert http.get("/v1/balance", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        basic = base64.b64encode(f"{key}:".encode()).decode()
        r = http.get("/v1/balance", headers={"Authorization": f"Basic {basic}"})
        assert r.status_code == 200 and r.json()["object"] == "balance"
        assert r.headers["Request-Id"].startswith("req_") and r.headers["Stripe-Version"]
        missing = http.get("/v1/balance")
        assert missing.status_code == 401
        assert missing.json()["error"]["message"].startswith("You did not provide an API key.")


def test_a_wrong_key_is_an_authentication_error_naming_it_masked(sb: Sandbox) -> None:
    bad = "sk_test_" + "x" * 20 + "WXYZ"
    with pytest.raises(stripe.AuthenticationError) as exc:
        stripe_sdk(sb, key=bad).v1.balance.retrieve()
    assert exc.value.http_status == 401
    assert exc.value.user_message == "Invalid API Key provided: sk_test_" + "*" * 20 + "WXYZ"
    assert exc.value.json_body["error"]["type"] == "invalid_request_error"


def test_version_and_account_headers(sb: Sandbox, client: stripe.StripeClient) -> None:
    with stripe_http(sb) as http:
        r = http.get("/v1/balance", headers={"Stripe-Version": "2020-08-27"})
        assert r.status_code == 200 and r.headers["Stripe-Version"] == "2020-08-27"
        bad = http.get("/v1/balance", headers={"Stripe-Version": "yesterday"})
        assert (
            bad.status_code == 400
            and bad.json()["error"]["message"] == "Invalid Stripe API version: yesterday"
        )
    with pytest.raises(stripe.PermissionError):
        client.v1.balance.retrieve(options={"stripe_account": "acct_1NotThisOneAtAll"})
    own = sb.call(lambda: sb.stripe.account_id)
    assert client.v1.balance.retrieve(options={"stripe_account": own}).object == "balance"


def test_unknown_urls_and_parameters(sb: Sandbox, client: stripe.StripeClient) -> None:
    with stripe_http(sb) as http:
        r = http.get("/v1/nothing_here")
        assert r.status_code == 404
        assert r.json()["error"]["message"].startswith("Unrecognized request URL (GET: /v1/nothing_here).")
        assert http.delete("/v1/charges").status_code == 404
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.create(params={"emale": "x@example.com"})  # type: ignore[typeddict-unknown-key]
    assert (exc.value.code, exc.value.param) == ("parameter_unknown", "emale")
    assert exc.value.user_message == "Received unknown parameter: emale"


def test_form_bodies_nest_with_brackets(sb: Sandbox) -> None:
    with stripe_http(sb) as http:
        r = http.post(
            "/v1/customers",
            content=(
                "email=nest%40example.com&metadata[order_id]=42&metadata[source]=wc"
                "&shipping[name]=Ada&shipping[address][city]=Paris&shipping[address][country]=FR"
                "&preferred_locales[]=fr&preferred_locales[]=en"
            ),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 200, r.text
        cu = r.json()
        assert cu["metadata"] == {"order_id": "42", "source": "wc"}
        assert cu["shipping"]["address"] == {"city": "Paris", "country": "FR"}
        assert cu["preferred_locales"] == ["fr", "en"]
        pi = http.post(
            "/v1/payment_intents",
            data={"amount": "1000", "currency": "usd", "payment_method": "pm_card_visa", "confirm": "true"},
        ).json()
        got = http.get(f"/v1/payment_intents/{pi['id']}", params=[("expand[]", "latest_charge")]).json()
        assert got["latest_charge"]["object"] == "charge"
        clash = http.post("/v1/customers", content="metadata=x&metadata[a]=b",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert clash.status_code == 400 and clash.json()["error"]["param"] == "metadata"


# --- customers and payment methods ----------------------------------------------------------------------
def test_customer_lifecycle(client: stripe.StripeClient) -> None:
    cu = client.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada", "metadata": {"wc_customer": "7", "tier": "gold"}}
    )
    assert cu.id.startswith("cus_") and cu.metadata.to_dict() == {"wc_customer": "7", "tier": "gold"}
    cu = client.v1.customers.update(cu.id, params={"metadata": {"tier": ""}, "phone": "+15555550100"})
    assert cu.metadata.to_dict() == {"wc_customer": "7"} and cu.phone == "+15555550100"
    found = client.v1.customers.list(params={"email": "ada@example.com"})
    assert [c.id for c in found.data] == [cu.id]
    deleted = client.v1.customers.delete(cu.id)
    assert deleted.deleted is True
    assert client.v1.customers.retrieve(cu.id).to_dict().get("deleted") is True
    assert cu.id not in [c.id for c in client.v1.customers.list(params={"limit": 100}).data]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.delete(cu.id)
    assert exc.value.http_status == 404 and exc.value.code == "resource_missing"


def test_payment_methods_from_tokens_attach_and_detach(client: stripe.StripeClient) -> None:
    cu = client.v1.customers.create(params={"email": "pm@example.com"})
    pm = client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_mastercard"}})
    assert pm.card.brand == "mastercard" and pm.card.last4 == "4444" and pm.customer is None
    pm = client.v1.payment_methods.attach(pm.id, params={"customer": cu.id})
    listed = client.v1.customers.payment_methods.list(cu.id)
    assert [p.id for p in listed.data] == [pm.id]
    client.v1.payment_methods.detach(pm.id)
    with pytest.raises(stripe.InvalidRequestError, match="may not be used again"):
        client.v1.payment_methods.attach(pm.id, params={"customer": cu.id})
    # A test id attached makes a PaymentMethod with an id of its own.
    made = client.v1.payment_methods.attach("pm_card_visa", params={"customer": cu.id})
    assert made.id.startswith("pm_1") and made.card.last4 == "4242" and made.customer == cu.id


def test_raw_card_numbers_are_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_methods.create(
            params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2030}}
        )
    assert exc.value.http_status == 402
    assert (
        "Sending credit card numbers directly to the Stripe API is generally unsafe" in exc.value.user_message
    )


def test_an_unknown_test_token_names_the_parameter(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "payment_method": "pm_card_insufficientFunds"}
        )
    assert (exc.value.code, exc.value.param) == ("resource_missing", "payment_method")


# --- payment intents ------------------------------------------------------------------------------------
def test_create_update_and_confirm(sb: Sandbox, client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(
        params={
            "amount": 4200,
            "currency": "usd",
            "metadata": {"order_id": "9001"},
            "description": "Order #9001",
        }
    )
    assert pi.status == "requires_payment_method" and pi.latest_charge is None
    assert pi.client_secret.startswith(pi.id + "_secret_")
    pi = client.v1.payment_intents.update(pi.id, params={"payment_method": "pm_card_amex"})
    assert pi.status == "requires_confirmation"
    pi = client.v1.payment_intents.confirm(pi.id)
    assert pi.status == "succeeded" and pi.amount_received == 4200 and pi.amount_capturable == 0
    ch = client.v1.charges.retrieve(pi.latest_charge, params={"expand": ["balance_transaction"]})
    assert (ch.paid, ch.captured, ch.status, ch.payment_intent) == (True, True, "succeeded", pi.id)
    assert ch.metadata.to_dict() == {"order_id": "9001"} and ch.payment_method_details.card.brand == "amex"
    bt = ch.balance_transaction
    assert (bt.amount, bt.fee, bt.net, bt.type) == (4200, 152, 4048, "charge")  # 2.9 % + 30, half up
    # The payment landed in the shared ledger, naming the order.
    ledger_charge = sb.call(lambda: sb.world.ledger.charges_for_order("stripe", 9001))
    assert [c.id for c in ledger_charge] == [ch.id]


@pytest.mark.parametrize(
    ("pm", "code", "decline_code", "param"),
    [
        ("pm_card_visa_chargeDeclined", "card_declined", "generic_decline", None),
        ("pm_card_chargeDeclined", "card_declined", "generic_decline", None),
        ("pm_card_visa_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds", None),
        ("pm_card_visa_chargeDeclinedLostCard", "card_declined", "lost_card", None),
        ("pm_card_visa_chargeDeclinedStolenCard", "card_declined", "stolen_card", None),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card", "exp_month"),
        ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc", "cvc"),
        ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error", None),
        ("pm_card_chargeDeclinedFraudulent", "card_declined", "fraudulent", None),
    ],
)
def test_declines_are_card_errors_and_the_intent_can_be_paid_after(
    client: stripe.StripeClient, pm: str, code: str, decline_code: str, param: str | None
) -> None:
    with pytest.raises(stripe.CardError) as exc:
        _pay(client, pm)
    err = exc.value.error
    assert exc.value.http_status == 402 and err.type == "card_error"
    assert (err.code, err.decline_code, exc.value.param) == (code, decline_code, param)
    assert err.doc_url == "https://stripe.com/docs/error-codes/" + code.replace("_", "-")
    assert err.request_log_url.endswith(exc.value.request_id)
    intent = err.payment_intent
    assert (
        intent.status == "requires_payment_method" and intent.last_payment_error.decline_code == decline_code
    )
    failed = client.v1.charges.retrieve(err.charge)
    assert (failed.status, failed.paid, failed.failure_code) == ("failed", False, code)
    assert failed.outcome.type == "issuer_declined"
    paid = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert paid.status == "succeeded" and paid.latest_charge != err.charge
    assert len(client.v1.charges.list(params={"payment_intent": intent.id}).data) == 2


def test_manual_capture_in_part_then_capture_again_is_refused(client: stripe.StripeClient) -> None:
    pi = _pay(client, capture_method="manual", amount=5000)
    assert (pi.status, pi.amount_capturable, pi.amount_received) == ("requires_capture", 5000, 0)
    ch = client.v1.charges.retrieve(pi.latest_charge)
    assert (ch.captured, ch.amount_captured, ch.balance_transaction) == (False, 0, None)
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 5001})
    assert (too_much.value.code, too_much.value.param) == ("amount_too_large", "amount_to_capture")
    pi = client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 3000})
    assert (pi.status, pi.amount_received) == ("succeeded", 3000)
    ch = client.v1.charges.retrieve(pi.latest_charge)
    assert (ch.captured, ch.amount_captured, ch.amount_refunded, ch.refunded) == (True, 3000, 2000, False)
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.payment_intents.capture(pi.id)
    assert again.value.code == "payment_intent_unexpected_state"
    assert "has a status of succeeded" in again.value.user_message


def test_cancel_releases_an_authorization_and_refuses_a_succeeded_intent(client: stripe.StripeClient) -> None:
    pi = _pay(client, capture_method="manual")
    pi = client.v1.payment_intents.cancel(pi.id, params={"cancellation_reason": "abandoned"})
    assert (pi.status, pi.cancellation_reason) == ("canceled", "abandoned") and pi.canceled_at
    ch = client.v1.charges.retrieve(pi.latest_charge)
    assert (ch.captured, ch.refunded, ch.amount_refunded) == (False, True, 2500)
    done = _pay(client)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.cancel(done.id)
    assert exc.value.code == "payment_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as confirm:
        client.v1.payment_intents.confirm(done.id)
    assert "already succeeded" in confirm.value.user_message


def test_confirm_without_a_payment_method(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.confirm(pi.id)
    assert exc.value.code == "payment_intent_unexpected_state" and "missing a payment method" in str(
        exc.value
    )


@pytest.mark.parametrize(
    ("params", "code", "param", "message"),
    [
        (
            {"amount": "10.50", "currency": "usd"},
            "parameter_invalid_integer",
            "amount",
            "Invalid integer: 10.50",
        ),
        (
            {"amount": 49, "currency": "usd"},
            "amount_too_small",
            "amount",
            "Amount must be at least $0.50 usd",
        ),
        ({"amount": 49, "currency": "jpy"}, "amount_too_small", "amount", "Amount must be at least ¥50 jpy"),
        (
            {"amount": 10**8, "currency": "usd"},
            "amount_too_large",
            "amount",
            "Amount must be no more than $999,999.99",
        ),
        ({"currency": "usd"}, "parameter_missing", "amount", "Missing required param: amount."),
        ({"amount": 1000}, "parameter_missing", "currency", "Missing required param: currency."),
        ({"amount": 1000, "currency": "xyz"}, None, "currency", "Invalid currency: xyz."),
        (
            {"amount": 1000, "currency": "usd", "capture_method": "later"},
            None,
            "capture_method",
            "Invalid capture_method",
        ),
    ],
)
def test_bad_amounts_and_currencies(
    client: stripe.StripeClient, params: dict[str, object], code: str | None, param: str, message: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]
    assert exc.value.http_status == 400
    assert (exc.value.code, exc.value.param) == (code, param)
    assert exc.value.user_message.startswith(message)


def test_zero_decimal_currencies_take_whole_units(client: stripe.StripeClient) -> None:
    pi = _pay(client, amount=5000, currency="jpy")
    ch = client.v1.charges.retrieve(pi.latest_charge)
    assert (ch.amount, ch.currency) == (5000, "jpy")  # ¥5,000, not ¥50.00


# --- charges and refunds --------------------------------------------------------------------------------
def test_charge_metadata_update_moves_the_order_it_names(sb: Sandbox, client: stripe.StripeClient) -> None:
    pi = _pay(client, metadata={"order_id": "777001"})
    ch = client.v1.charges.update(
        pi.latest_charge, params={"metadata": {"order_id": "777002", "note": "fixed"}}
    )
    assert ch.metadata.to_dict() == {"order_id": "777002", "note": "fixed"}
    assert sb.call(lambda: [c.id for c in sb.world.ledger.charges_for_order("stripe", 777002)]) == [ch.id]
    assert sb.call(lambda: sb.world.ledger.charges_for_order("stripe", 777001)) == []
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.charges.retrieve("ch_doesnotexist")
    assert exc.value.user_message == "No such charge: 'ch_doesnotexist'" and exc.value.http_status == 404


def test_refunds_full_partial_and_refused(client: stripe.StripeClient) -> None:
    pi = _pay(client, amount=6000)
    part = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1500, "reason": "duplicate"})
    assert (part.amount, part.status, part.charge, part.payment_intent) == (
        1500,
        "succeeded",
        pi.latest_charge,
        pi.id,
    )
    assert part.reason == "duplicate" and part.balance_transaction.startswith("txn_")
    with pytest.raises(stripe.InvalidRequestError) as over:
        client.v1.refunds.create(params={"charge": pi.latest_charge, "amount": 4501})
    assert over.value.param == "amount" and over.value.code is None
    assert over.value.user_message == (
        "Refund amount ($45.01) is greater than unrefunded amount on charge ($45.00)"
    )
    rest = client.v1.refunds.create(params={"charge": pi.latest_charge, "metadata": {"why": "returned"}})
    assert rest.amount == 4500 and rest.metadata.to_dict() == {"why": "returned"}
    ch = client.v1.charges.retrieve(pi.latest_charge)
    assert (ch.refunded, ch.amount_refunded) == (True, 6000)
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create(params={"charge": pi.latest_charge})
    assert again.value.code == "charge_already_refunded"
    assert again.value.user_message == f"Charge {pi.latest_charge} has already been refunded."
    listed = client.v1.refunds.list(params={"charge": pi.latest_charge})
    assert [r.id for r in listed.data] == [rest.id, part.id]  # newest first
    updated = client.v1.refunds.update(part.id, params={"metadata": {"ticket": "42"}})
    assert updated.metadata.to_dict() == {"ticket": "42"}
    expanded = client.v1.charges.retrieve(pi.latest_charge, params={"expand": ["refunds"]})
    assert [r.id for r in expanded.refunds.data] == [rest.id, part.id]


def test_refunds_of_what_cannot_be_refunded(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as neither:
        client.v1.refunds.create(params={"amount": 100})
    assert "payment_intent or charge" in neither.value.user_message
    held = _pay(client, capture_method="manual")
    with pytest.raises(stripe.InvalidRequestError, match="has not been captured"):
        client.v1.refunds.create(params={"charge": held.latest_charge})
    with pytest.raises(stripe.CardError) as declined:
        _pay(client, "pm_card_visa_chargeDeclined")
    pi_id = declined.value.error.payment_intent.id
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi_id})
    assert (
        exc.value.user_message == f"This PaymentIntent ({pi_id}) does not have a successful charge to refund."
    )
    with pytest.raises(stripe.InvalidRequestError) as zero:
        client.v1.refunds.create(params={"payment_intent": held.id, "amount": 0})
    assert zero.value.code == "parameter_invalid_integer"


# --- events ---------------------------------------------------------------------------------------------
def test_every_state_change_is_an_event_naming_its_request(sb: Sandbox, client: stripe.StripeClient) -> None:
    pi = _pay(client, capture_method="manual", idempotency_key=None)
    pi = client.v1.payment_intents.capture(pi.id)
    kinds = [
        e.type
        for e in client.v1.events.list(params={"limit": 100}).data
        if e.data.object.to_dict().get("id") in (pi.id, pi.latest_charge)
    ]
    assert kinds[::-1] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.amount_capturable_updated",
        "charge.captured",
        "payment_intent.succeeded",
    ]
    captured = client.v1.events.list(params={"type": "charge.captured", "limit": 1}).data[0]
    assert captured.data.object.id == pi.latest_charge and captured.data.previous_attributes.captured is False
    assert captured.request.id.startswith("req_") and captured.request.idempotency_key
    assert client.v1.events.retrieve(captured.id).id == captured.id
    wild = client.v1.events.list(params={"type": "payment_intent.*", "limit": 100}).data
    assert wild and all(e.type.startswith("payment_intent.") for e in wild)
    with pytest.raises(stripe.CardError) as declined:
        _pay(client, "pm_card_visa_chargeDeclinedLostCard")
    failed = client.v1.events.list(
        params={"types": ["charge.failed", "payment_intent.payment_failed"], "limit": 2}
    )
    assert [e.type for e in failed.data] == ["payment_intent.payment_failed", "charge.failed"]
    assert failed.data[1].data.object.id == declined.value.error.charge


# --- bad input never crashes the stand-in ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/payment_intents", "amount[x]=1&currency=usd"),
        ("POST", "/v1/payment_intents", "amount=1000&currency[]=usd"),
        ("POST", "/v1/payment_intents", "amount=1000&currency=usd&metadata=notahash"),
        ("POST", "/v1/payment_intents", "amount=1000&currency=usd&expand[a]=b"),
        ("POST", "/v1/payment_intents", "%ff%fe=%00&]bad[=1"),
        ("POST", "/v1/payment_intents", "amount=99999999999999999999999&currency=usd"),
        ("POST", "/v1/payment_intents/pi_nope/confirm", "payment_method=pm_card_visa"),
        ("POST", "/v1/refunds", "charge[]=ch_x"),
        ("POST", "/v1/refunds", "payment_intent=pi_nope"),
        ("POST", "/v1/customers", "metadata[" + "k" * 41 + "]=v"),
        ("POST", "/v1/customers", "&".join(f"metadata[k{i}]=v" for i in range(51))),
        ("POST", "/v1/disputes/du_nope", "evidence[receipt]=x"),
        ("POST", "/v1/webhook_endpoints", "url=https://x.example&enabled_events=Not An Event"),
        ("GET", "/v1/charges?created=abc", ""),
        ("GET", "/v1/charges?created[gte]=1&created[lt]=x", ""),
        ("GET", "/v1/charges?limit[]=5", ""),
        ("GET", "/v1/events?types[]=a&type=b", ""),
        ("GET", "/v1/balance_transactions?payout=", ""),
        ("GET", "/v1/payment_intents?ending_before=pi_nope", ""),
        ("DELETE", "/v1/customers/cus_nope", ""),
        ("PUT", "/v1/customers", ""),
    ],
)
def test_malformed_requests_get_stripes_4xx_and_never_crash(
    sb: Sandbox, method: str, path: str, body: str
) -> None:
    with stripe_http(sb) as http:
        r = http.request(
            method,
            path,
            content=body.encode("latin-1"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert 400 <= r.status_code < 500, r.text
    err = r.json()["error"]
    assert err["type"] in ("invalid_request_error", "card_error") and err["message"]
    assert sb.call(lambda: list(sb.stripe.errors)) == []
