"""`Idempotency-Key` on the Stripe stand-in, as Stripe does it: replays (their status included), mismatches,
validation failures not saved, 24 h expiry on the account's clock, and the SDK's own keys and retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from stripe_sandbox import stripe_http, stripe_sdk

from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(
        services=("stripe",), products=10, customers=10, orders=60, seed=8, now=DEFAULT_END
    ) as s:
        yield s


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> stripe.StripeClient:
    return stripe_sdk(sb)


def _received(sb: Sandbox, key: str) -> list[dict[str, object]]:
    return [r for r in sb.call(sb.stripe.received) if r["idempotency_key"] == key]


PARAMS = {"amount": 1999, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}


def test_same_key_same_parameters_replays_the_first_response(
    sb: Sandbox, client: stripe.StripeClient
) -> None:
    first = client.v1.payment_intents.create(params=dict(PARAMS), options={"idempotency_key": "order-1-pay"})
    again = client.v1.payment_intents.create(params=dict(PARAMS), options={"idempotency_key": "order-1-pay"})
    assert again.id == first.id and again.latest_charge == first.latest_charge
    h1, h2 = first.last_response.headers, again.last_response.headers
    assert "Idempotent-Replayed" not in h1 and h2["Idempotent-Replayed"] == "true"
    assert h2["Original-Request"] == h1["Request-Id"] != h2["Request-Id"]
    assert h1["Idempotency-Key"] == h2["Idempotency-Key"] == "order-1-pay"
    assert len(_received(sb, "order-1-pay")) == 1  # the stand-in counts one payment
    assert len(client.v1.charges.list(params={"payment_intent": first.id}).data) == 1


def test_a_decline_replays_as_the_same_402(sb: Sandbox, client: stripe.StripeClient) -> None:
    params = dict(PARAMS, payment_method="pm_card_visa_chargeDeclinedInsufficientFunds")
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as exc:
            client.v1.payment_intents.create(params=params, options={"idempotency_key": "order-2-pay"})
        errors.append(exc.value)
    assert errors[0].error.charge == errors[1].error.charge
    assert errors[1].headers["Idempotent-Replayed"] == "true" and errors[1].http_status == 402
    assert errors[0].json_body == errors[1].json_body
    pi = errors[0].error.payment_intent.id
    assert len(client.v1.charges.list(params={"payment_intent": pi}).data) == 1


def test_same_key_other_parameters_is_an_idempotency_error(sb: Sandbox, client: stripe.StripeClient) -> None:
    client.v1.payment_intents.create(params=dict(PARAMS), options={"idempotency_key": "order-3-pay"})
    with pytest.raises(stripe.IdempotencyError) as exc:
        client.v1.payment_intents.create(
            params=dict(PARAMS, amount=2000), options={"idempotency_key": "order-3-pay"}
        )
    assert exc.value.http_status == 400 and exc.value.json_body["error"]["type"] == "idempotency_error"
    assert exc.value.user_message == (
        "Keys for idempotent requests can only be used with the same parameters they were first used with. "
        "Try using a key other than 'order-3-pay' if you meant to execute a different request."
    )
    assert len(_received(sb, "order-3-pay")) == 1


def test_same_key_on_another_endpoint_is_an_idempotency_error(client: stripe.StripeClient) -> None:
    client.v1.customers.create(params={"email": "k@example.com"}, options={"idempotency_key": "shared-key"})
    with pytest.raises(stripe.IdempotencyError) as exc:
        client.v1.payment_intents.create(params=dict(PARAMS), options={"idempotency_key": "shared-key"})
    assert "can only be used for the same endpoint they were first used for" in exc.value.user_message
    assert "('/v1/payment_intents' vs '/v1/customers')" in exc.value.user_message


def test_a_request_failing_validation_is_not_saved(sb: Sandbox, client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(
            params=dict(PARAMS, amount="19.99"), options={"idempotency_key": "k-4"}
        )
    ok = client.v1.payment_intents.create(params=dict(PARAMS), options={"idempotency_key": "k-4"})
    assert ok.status == "succeeded" and "Idempotent-Replayed" not in ok.last_response.headers


def test_an_error_after_execution_began_is_saved(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params=dict(PARAMS))
    client.v1.refunds.create(params={"payment_intent": pi.id})
    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.refunds.create(params={"payment_intent": pi.id}, options={"idempotency_key": "k-5"})
    assert exc.value.code == "charge_already_refunded" and exc.value.headers["Idempotent-Replayed"] == "true"


def test_keys_expire_after_24_hours_on_the_accounts_clock(sb: Sandbox, client: stripe.StripeClient) -> None:
    first = client.v1.payment_intents.create(params=dict(PARAMS), options={"idempotency_key": "k-6"})
    sb.call(sb.stripe.advance, seconds=23 * 3600)
    assert (
        client.v1.payment_intents.create(params=dict(PARAMS), options={"idempotency_key": "k-6"}).id
        == first.id
    )
    sb.call(sb.stripe.advance, seconds=3600)
    later = client.v1.payment_intents.create(params=dict(PARAMS), options={"idempotency_key": "k-6"})
    assert later.id != first.id and "Idempotent-Replayed" not in later.last_response.headers
    assert len(_received(sb, "k-6")) == 2


def test_every_sdk_post_carries_its_own_key(sb: Sandbox, client: stripe.StripeClient) -> None:
    a = client.v1.payment_intents.create(params=dict(PARAMS))
    b = client.v1.payment_intents.create(params=dict(PARAMS))
    assert a.id != b.id
    keys = {
        r["idempotency_key"] for r in sb.call(sb.stripe.received, "payment_intent") if r["id"] in (a.id, b.id)
    }
    assert len(keys) == 2 and all(keys)


def test_gets_ignore_keys_and_an_overlong_key_is_refused(sb: Sandbox) -> None:
    with stripe_http(sb) as http:
        r = http.get("/v1/balance", headers={"Idempotency-Key": "x" * 300})
        assert r.status_code == 200 and "Idempotency-Key" not in r.headers
        long = http.post("/v1/customers", data={"email": "a@b.co"}, headers={"Idempotency-Key": "x" * 256})
        assert long.status_code == 400 and "at most 255 characters" in long.json()["error"]["message"]


def test_an_sdk_retry_after_a_failure_in_front_of_the_api_pays_once(sb: Sandbox) -> None:
    sb.set_faults("stripe", script=[503])
    try:
        pi = stripe_sdk(sb, retries=2).v1.payment_intents.create(params=dict(PARAMS))
    finally:
        sb.set_faults("stripe")
    assert pi.status == "succeeded"
    made = [r for r in sb.call(sb.stripe.received, "payment_intent") if r["id"] == pi.id]
    assert len(made) == 1
    assert [
        r
        for r in sb.call(sb.stripe.received, "payment_intent")
        if r["idempotency_key"] == made[0]["idempotency_key"]
    ] == made
