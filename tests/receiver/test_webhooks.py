"""Webhooks in: verified exactly as each vendor signs, stored before the 2xx, deduped, and every refusal
answered with its status and one `dashboard_events` row (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from receiver_harness import (
    ANET_KEY,
    LEGACY_SECRET,
    SQUARE_KEY,
    STRIPE_SECRET,
    THIRD_PARTY_SECRET,
    TWILIO_TOKEN,
    WOO_SECRET,
    rows,
    save_blocks,
    save_sandbox_blocks,
    settings_for,
    start_receiver,
)
from webhook_signing import (
    SendGridKey,
    anet_headers,
    legacy_headers,
    square_headers,
    standard_headers,
    stripe_event,
    stripe_headers,
    twilio_headers,
    woo_headers,
)

from hub.db import create_hub_engine


def rejections(running: Any, engine: sa.Engine) -> list[Any]:
    running.call(running.runtime.writer.flush())
    return [
        r for r in rows(engine, "dashboard_events") if r.event_type in ("webhook_rejected", "api_rejected")
    ]


def assert_refused(resp: httpx.Response, code: int, words: str) -> None:
    assert resp.status_code == code, resp.text
    body = resp.json()
    assert body["success"] is False and words in body["message"]
    assert "Traceback" not in resp.text and "File " not in resp.text


# --- Stripe ---------------------------------------------------------------------------------------
@pytest.mark.postgres
def test_a_signed_stripe_event_is_stored_before_the_ack_and_a_redelivery_is_a_duplicate(
    receiver: Any, engine: sa.Engine
) -> None:
    running = receiver()
    body = stripe_event("charge.refunded", "ch_123")
    with running.client() as http:
        first = http.post("/api/webhooks/stripe", content=body, headers=stripe_headers(body, STRIPE_SECRET))
        assert first.status_code == 200, first.text
        assert first.json()["duplicate"] is False
        (row,) = rows(engine)  # committed when the 200 arrived
        assert (row.source, row.topic, row.resource, row.status) == (
            "stripe",
            "charge.refunded",
            "charge.ch_123",
            "pending",
        )
        assert row.event_key == json.loads(body)["id"] and row.payload == json.loads(body)
        again = http.post("/api/webhooks/stripe", content=body, headers=stripe_headers(body, STRIPE_SECRET))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert len(rows(engine)) == 1


@pytest.mark.postgres
def test_concurrent_redeliveries_store_one_row(receiver: Any, engine: sa.Engine) -> None:
    """The unique constraint decides: copies arriving while the original is being stored are duplicates."""
    running = receiver()
    body = stripe_event()

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=running.url, timeout=30) as http:
            return await asyncio.gather(
                *(
                    http.post(
                        "/api/webhooks/stripe", content=body, headers=stripe_headers(body, STRIPE_SECRET)
                    )
                    for _ in range(20)
                )
            )

    answers = asyncio.run(burst())
    assert all(a.status_code == 200 for a in answers)
    assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * 19
    assert len({a.json()["data"]["id"] for a in answers}) == 1
    assert len(rows(engine)) == 1


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
@pytest.mark.parametrize(
    ("headers", "words"),
    [
        (lambda body: {}, "missing Stripe-Signature"),
        (lambda body: stripe_headers(body, "whsec_wrong"), "does not match"),
        (lambda body: stripe_headers(body, STRIPE_SECRET, timestamp=int(time.time()) - 301), "tolerance"),
        (lambda body: {"Stripe-Signature": "garbage"}, "malformed"),
    ],
    ids=["missing", "wrong-secret", "too-old", "malformed"],
)
def test_stripe_signature_failures_are_401_with_a_dashboard_row(
    receiver: Any, engine: sa.Engine, headers: Any, words: str
) -> None:
    running = receiver()
    body = stripe_event()
    with running.client() as http:
        resp = http.post("/api/webhooks/stripe", content=body, headers=headers(body))
        assert_refused(resp, 401, words)
        assert rows(engine) == []
        (event,) = rejections(running, engine)
        assert event.event_type == "webhook_rejected" and words in event.data["reason"]
        assert event.data["status"] == 401 and event.data["source"] == "stripe"
        # the process keeps serving
        good = stripe_event()
        assert (
            http.post(
                "/api/webhooks/stripe", content=good, headers=stripe_headers(good, STRIPE_SECRET)
            ).status_code
            == 200
        )


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_a_signed_body_that_is_not_an_event_is_400(receiver: Any, engine: sa.Engine) -> None:
    running = receiver()
    with running.client() as http:
        for body, words in ((b"{not json", "not JSON"), (b'{"object": "event"}', "not a Stripe event")):
            resp = http.post(
                "/api/webhooks/stripe", content=body, headers=stripe_headers(body, STRIPE_SECRET)
            )
            assert_refused(resp, 400, words)
    assert rows(engine) == []
    assert len(rejections(running, engine)) == 2


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
# --- size, routing, method --------------------------------------------------------------------------
def test_a_body_over_the_limit_is_413_before_it_is_read(receiver: Any, engine: sa.Engine) -> None:
    running = receiver(max_body_bytes=2048)
    big = b'{"id": "evt_1", "type": "x", "pad": "' + b"x" * 5000 + b'"}'
    with running.client() as http:
        declared = http.post("/api/webhooks/stripe", content=big, headers=stripe_headers(big, STRIPE_SECRET))
        assert_refused(declared, 413, "over the limit")

        def chunks() -> Any:  # no Content-Length: the stream is cut off once past the limit
            for _ in range(10):
                yield b"x" * 1000

        streamed = http.post(
            "/api/webhooks/stripe", content=chunks(), headers={"Stripe-Signature": "t=1,v1=00"}
        )
        assert_refused(streamed, 413, "over the limit")
    assert rows(engine) == []
    assert [e.data["status"] for e in rejections(running, engine)] == [413, 413]


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_unknown_source_is_404_and_wrong_method_is_405(receiver: Any, engine: sa.Engine) -> None:
    running = receiver()
    with running.client() as http:
        assert_refused(http.post("/api/webhooks/shopify", content=b"{}"), 404, "unknown webhook source")
        wrong = http.get("/api/webhooks/stripe")
        assert_refused(wrong, 405, "use POST")
        assert wrong.headers["allow"] == "POST"
        assert_refused(http.put("/api/webhooks/woocommerce"), 405, "use POST")
        assert_refused(http.post("/api/webhooks/third-party/nobody", content=b"{}"), 404, "unknown service")
        assert_refused(
            http.post("/api/webhooks/third-party/Bad%20Name", content=b"{}"), 404, "unknown service"
        )
    assert [e.data["status"] for e in rejections(running, engine)] == [404, 405, 405, 404, 404]


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the lock is SQLite's
@pytest.mark.postgres
def test_the_hub_unavailable_is_503_and_the_receiver_recovers(hub_url: str, names: str) -> None:
    """A locked SQLite hub (another writer holds it past the busy timeout) refuses the batch: 503."""
    engine = create_hub_engine(hub_url)
    sa.event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA busy_timeout=50"))
    engine.dispose()
    save_blocks(names)
    running = start_receiver(settings_for(names), engine)
    try:
        blocker = sqlite3.connect(hub_url.removeprefix("sqlite:///"), isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        body = stripe_event()
        with running.client() as http:
            resp = http.post(
                "/api/webhooks/stripe", content=body, headers=stripe_headers(body, STRIPE_SECRET)
            )
            assert_refused(resp, 503, "hub is unavailable")
            blocker.execute("ROLLBACK")
            blocker.close()
            again = http.post(
                "/api/webhooks/stripe", content=body, headers=stripe_headers(body, STRIPE_SECRET)
            )
            assert again.status_code == 200 and again.json()["duplicate"] is False
        assert len(rows(engine)) == 1
    finally:
        running.stop()
        engine.dispose()


# --- WooCommerce, delivered by the sandbox store ---------------------------------------------------
def test_the_sandbox_store_delivers_to_the_receiver(sandbox: Any, names: str, engine: sa.Engine) -> None:
    creds = save_sandbox_blocks(names, sandbox)
    running = start_receiver(settings_for(names), engine)
    try:
        from woocommerce import API

        api = API(
            url=sandbox.urls["woocommerce"],
            consumer_key=creds["consumer_key"],
            consumer_secret=creds["consumer_secret"],
            version="wc/v3",
            timeout=30,
        )
        made = api.post(
            "webhooks",
            {"topic": "product.updated", "delivery_url": running.url + "/api/webhooks/woocommerce"},
        )
        assert made.status_code == 201, made.text
        api.post(
            "webhooks",
            {
                "topic": "order.deleted",
                "delivery_url": running.url + "/api/webhooks/woocommerce/order/deleted",
            },
        )
        pings = [d for d in sandbox.woocommerce.deliveries.items if d["kind"] == "ping"]
        assert [p["status_code"] for p in pings] == [200, 200]  # the unsigned creation ping
        product = sandbox.call(sandbox.woocommerce.ids, "product")[0]
        order = sandbox.call(sandbox.woocommerce.ids, "order")[0]
        sandbox.call(sandbox.woocommerce.touch, "product", [product])
        sandbox.call(sandbox.woocommerce.delete, "order", order, force=True)
        sandbox.flush_webhooks()
        delivered = [d for d in sandbox.woocommerce.deliveries.items if d["kind"] == "delivery"]
        assert [d["status_code"] for d in delivered] == [200, 200]
        stored = rows(engine)
        assert sorted((r.topic, r.resource, r.account) for r in stored) == [
            ("order.deleted", f"order.{order}", names),
            ("product.updated", f"product.{product}", names),
        ]
        # the exact redelivery is a duplicate; a new delivery of the same record (new body) is kept
        again = delivered[0]
        resp = httpx.post(
            running.url + "/api/webhooks/woocommerce",
            content=again["body"].encode(),
            headers=again["request_headers"],
        )
        assert resp.status_code == 200 and resp.json()["duplicate"] is True
        sandbox.call(sandbox.woocommerce.touch, "product", [product], at=int(time.time()) + 5)
        sandbox.flush_webhooks()
        assert len(rows(engine, topic="product.updated")) == 2
    finally:
        running.stop()


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_woocommerce_signature_and_topic_failures(receiver: Any, engine: sa.Engine) -> None:
    running = receiver()
    body = b'{"id": 42, "status": "processing"}'
    with running.client() as http:
        assert_refused(
            http.post("/api/webhooks/woocommerce", content=body, headers=woo_headers(body, "wrong")),
            401,
            "does not match",
        )
        unsigned = {k: v for k, v in woo_headers(body, WOO_SECRET).items() if k != "X-WC-Webhook-Signature"}
        assert_refused(http.post("/api/webhooks/woocommerce", content=body, headers=unsigned), 401, "missing")
        no_topic = {k: v for k, v in woo_headers(body, WOO_SECRET).items() if k != "X-WC-Webhook-Topic"}
        assert_refused(http.post("/api/webhooks/woocommerce", content=body, headers=no_topic), 400, "Topic")
        # the old per-event path names the topic when the header is missing
        ok = http.post("/api/webhooks/woocommerce/order/updated", content=body, headers=no_topic)
        assert ok.status_code == 200, ok.text
        bad = b'{"id": "x"}'
        assert_refused(
            http.post("/api/webhooks/woocommerce", content=bad, headers=woo_headers(bad, WOO_SECRET)),
            400,
            "id",
        )
    assert [(r.topic, r.resource) for r in rows(engine)] == [("order.updated", "order.42")]


# --- Square, delivered by the sandbox --------------------------------------------------------------
def test_square_events_delivered_by_the_sandbox(names: str, engine: sa.Engine) -> None:
    from sandbox.server import run_sandbox

    with run_sandbox(services=("square",), products=5, customers=5, orders=20, seed=3) as sb:
        key = sb.credentials["square"]["webhook_signature_key"]
        save_blocks(names)
        from blocks import SquareGateway

        running = start_receiver(settings_for(names), engine)
        try:
            url = running.url + "/api/webhooks/square"
            SquareGateway(access_token="t", webhook_signature_key=key, notification_url=url).save(
                names, overwrite=True
            )
            running.call(running.runtime.integrations.load())
            sb.call(sb.square.register_webhook, url, ["payment.created"])
            from square import Square

            Square(
                token=sb.credentials["square"]["access_token"], base_url=sb.urls["square"]
            ).payments.create(
                source_id="cnon:card-nonce-ok",
                idempotency_key=str(uuid.uuid4()),
                amount_money={"amount": 800, "currency": "USD"},
            )
            sb.flush_webhooks()
            (row,) = rows(engine)
            assert (
                row.source == "square"
                and row.topic == "payment.created"
                and row.resource.startswith("payment.")
            )
            assert [d["status_code"] for d in sb.square.deliveries.items if d.get("kind") == "delivery"] == [
                200
            ]
            body = b'{"event_id": "e1", "type": "payment.updated", "data": {"type": "payment", "id": "p1"}}'
            wrong_url = square_headers(body, key, url + "/")
            assert_refused(httpx.post(url, content=body, headers=wrong_url), 401, "does not match")
        finally:
            running.stop()


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_square_behind_a_proxy_signs_the_public_url(receiver: Any, engine: sa.Engine) -> None:
    running = receiver(public_base_url="https://hooks.example.com")
    body = b'{"event_id": "e1", "type": "payment.updated", "data": {"type": "payment", "id": "p1"}}'
    with running.client() as http:
        public = "https://hooks.example.com/api/webhooks/square"
        assert (
            http.post(
                "/api/webhooks/square", content=body, headers=square_headers(body, SQUARE_KEY, public)
            ).status_code
            == 200
        )
        local = running.url + "/api/webhooks/square"
        assert_refused(
            http.post("/api/webhooks/square", content=body, headers=square_headers(body, SQUARE_KEY, local)),
            401,
            "",
        )


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
# --- Authorize.Net, Twilio, SendGrid, PayPal --------------------------------------------------------
def test_authorizenet_signature_is_compared_case_insensitively(receiver: Any, engine: sa.Engine) -> None:
    running = receiver()
    event = {
        "notificationId": str(uuid.uuid4()),
        "eventType": "net.authorize.payment.authcapture.created",
        "payload": {"entityName": "transaction", "id": "60012345678"},
    }
    body = json.dumps(event).encode()
    with running.client() as http:
        assert (
            http.post(
                "/api/webhooks/authorizenet", content=body, headers=anet_headers(body, ANET_KEY)
            ).status_code
            == 200
        )
        assert http.post(
            "/api/webhooks/authorizenet", content=body, headers=anet_headers(body, ANET_KEY, lower=True)
        ).json()["duplicate"]
        assert_refused(
            http.post("/api/webhooks/authorizenet", content=body, headers=anet_headers(body, "other")),
            401,
            "",
        )
        assert_refused(
            http.post("/api/webhooks/authorizenet", content=body, headers={"X-ANET-Signature": "md5=AB"}),
            401,
            "sha512",
        )
    (row,) = rows(engine)
    assert row.resource == "transaction.60012345678"


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_twilio_status_callbacks_behind_a_proxy(receiver: Any, engine: sa.Engine) -> None:
    running = receiver(public_base_url="https://hooks.example.com/")
    params = {
        "MessageSid": "SM" + "a" * 32,
        "MessageStatus": "delivered",
        "AccountSid": "AC" + "0" * 32,
        "To": "+15551234567",
    }
    with running.client() as http:
        public = "https://hooks.example.com/api/webhooks/twilio"
        ok = http.post(
            "/api/webhooks/twilio", data=params, headers=twilio_headers(public, params, TWILIO_TOKEN)
        )
        assert ok.status_code == 200, ok.text
        seen_url = running.url + "/api/webhooks/twilio"
        assert_refused(
            http.post(
                "/api/webhooks/twilio", data=params, headers=twilio_headers(seen_url, params, TWILIO_TOKEN)
            ),
            401,
            "",
        )
        later = params | {"MessageStatus": "read"}
        assert (
            http.post(
                "/api/webhooks/twilio", data=later, headers=twilio_headers(public, later, TWILIO_TOKEN)
            ).json()["duplicate"]
            is False
        )
        junk = {"Foo": "bar"}
        assert_refused(
            http.post("/api/webhooks/twilio", data=junk, headers=twilio_headers(public, junk, TWILIO_TOKEN)),
            400,
            "MessageSid",
        )
    assert [(r.topic, r.event_key) for r in rows(engine)] == [
        ("message.delivered", f"{params['MessageSid']}:delivered"),
        ("message.read", f"{params['MessageSid']}:read"),
    ]


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_sendgrid_batches_store_one_row_per_event(receiver: Any, engine: sa.Engine, names: str) -> None:
    from blocks import SendGridEmail

    key = SendGridKey()
    SendGridEmail(api_key="SG.x", from_email="noreply@example.com", verification_key=key.public_key).save(
        names, overwrite=True
    )
    running = receiver(block_kwargs={})
    running.call(
        running.runtime.integrations.load()
    )  # the SendGrid block saved above (save_blocks leaves it)
    events = [
        {
            "email": "a@example.com",
            "event": "delivered",
            "sg_event_id": "ev1",
            "sg_message_id": "m1.x",
            "timestamp": 1,
        },
        {
            "email": "b@example.com",
            "event": "bounce",
            "sg_event_id": "ev2",
            "sg_message_id": "m2.x",
            "timestamp": 1,
        },
        {
            "email": "a@example.com",
            "event": "delivered",
            "sg_event_id": "ev1",
            "sg_message_id": "m1.x",
            "timestamp": 1,
        },
    ]
    body = json.dumps(events).encode() + b"\r\n"
    with running.client() as http:
        resp = http.post("/api/webhooks/sendgrid", content=body, headers=key.headers(body))
        assert resp.status_code == 200, resp.text
        assert resp.json()["data"] | {"ids": None} == {
            "received": 3,
            "stored": 2,
            "duplicates": 1,
            "ids": None,
        }
        stale = key.headers(body, timestamp=int(time.time()) - 600)
        assert_refused(http.post("/api/webhooks/sendgrid", content=body, headers=stale), 401, "tolerance")
        forged = key.headers(body)
        assert_refused(
            http.post("/api/webhooks/sendgrid", content=body + b" ", headers=forged), 401, "does not match"
        )
    assert [(r.topic, r.event_key) for r in rows(engine)] == [
        ("email.delivered", "ev1"),
        ("email.bounce", "ev2"),
    ]


# PayPal: verified through the PayPal Gateway block's client against the stand-in's
# verify-webhook-signature API, with deliveries the stand-in signed: tests/receiver/test_refusals.py.


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_a_source_without_its_secret_is_503(receiver: Any, names: str) -> None:
    running = receiver()
    with running.client() as http:  # no PayPal block saved under this name
        assert_refused(
            http.post("/api/webhooks/paypal", content=b"{}", headers={"PAYPAL-TRANSMISSION-SIG": "x"}),
            503,
            "not set up",
        )


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
# --- third party -----------------------------------------------------------------------------------
def test_third_party_standard_webhooks_and_the_old_signature(receiver: Any, engine: sa.Engine) -> None:
    running = receiver()
    body = b'{"event": "order.completed", "data": {"orderId": "12345"}}'
    url = "/api/webhooks/third-party/shipstation"
    with running.client() as http:
        headers = standard_headers(body, THIRD_PARTY_SECRET, msg_id="msg_1")
        assert http.post(url, content=body, headers=headers).status_code == 200
        assert http.post(url, content=body, headers=headers).json()["duplicate"] is True
        old = standard_headers(body, THIRD_PARTY_SECRET, at=datetime.now(UTC) - timedelta(minutes=6))
        assert_refused(http.post(url, content=body, headers=old), 401, "tolerance")
        assert_refused(
            http.post(url, content=body, headers=standard_headers(body, "whsec_" + "A" * 32)), 401, ""
        )
        legacy = "/api/webhooks/third-party/legacy"
        assert http.post(legacy, content=body, headers=legacy_headers(body, LEGACY_SECRET)).status_code == 200
        assert_refused(http.post(legacy, content=body, headers=legacy_headers(body, "nope")), 401, "")
        assert_refused(http.post(legacy, content=body), 401, "X-Webhook-Signature")
    assert [(r.topic, r.account) for r in rows(engine)] == [
        ("shipstation.order.completed", "shipstation"),
        ("legacy.order.completed", "legacy"),
    ]


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_verification_off_accepts_unsigned_events_and_warns(
    receiver: Any, engine: sa.Engine, caplog: Any
) -> None:
    with caplog.at_level("WARNING", logger="nxt.receiver"):
        running = receiver(signature_verification_enabled=False)
    assert any("NOT checked" in r.message for r in caplog.records)
    body = stripe_event()
    with running.client() as http:
        assert http.post("/api/webhooks/stripe", content=body).status_code == 200
    assert len(rows(engine)) == 1


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the lock is SQLite's
def test_a_write_lock_held_elsewhere_delays_the_ack_but_never_the_loop(hub_url: str, names: str) -> None:
    """SQLite commits run on the loop; while another connection holds the write lock the writer retries
    without blocking, so the receiver keeps answering, and the event is stored (200) once it is free."""
    import concurrent.futures

    engine = create_hub_engine(hub_url)
    save_blocks(names)
    running = start_receiver(settings_for(names), engine)
    try:
        assert running.runtime.writer.inline
        blocker = sqlite3.connect(hub_url.removeprefix("sqlite:///"), isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
        body = stripe_event()
        with concurrent.futures.ThreadPoolExecutor(1) as pool, running.client() as http:
            pending = pool.submit(
                http.post, "/api/webhooks/stripe", content=body, headers=stripe_headers(body, STRIPE_SECRET)
            )
            while running.runtime.writer.lock_retries == 0:  # the batch met the lock
                time.sleep(0.01)
            with httpx.Client(base_url=running.url, timeout=10) as other:
                assert other.get("/healthz").status_code == 200  # the loop is not blocked
            assert not pending.done() and rows(engine) == []  # not acknowledged before it is stored
            blocker.execute("ROLLBACK")
            blocker.close()
            answer = pending.result(timeout=30)
        assert answer.status_code == 200 and answer.json()["duplicate"] is False
        assert len(rows(engine)) == 1
    finally:
        running.stop()
        engine.dispose()


# --- start-up -------------------------------------------------------------------------------------
def test_preload_covers_every_sdk_module_the_checks_import() -> None:
    """A vendor import left to the first webhook stalls the loop (Stripe's SDK: ~140 ms) and every
    request queued behind it: each module `receiver.verify` imports inside a check is preloaded."""
    import ast
    import inspect

    from receiver import verify

    imported = set()
    for node in ast.walk(ast.parse(inspect.getsource(verify))):
        if isinstance(node, ast.FunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    imported |= {alias.name for alias in inner.names}
                elif isinstance(inner, ast.ImportFrom) and inner.module:
                    imported.add(inner.module)
    imported.discard("importlib")
    assert imported == set(verify.SDK_MODULES)


def test_the_receiver_preloads_the_vendor_sdks_before_serving(
    receiver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from receiver import verify

    calls: list[str] = []
    monkeypatch.setattr(verify, "preload", lambda: calls.append("preload"))
    running = receiver()
    assert calls == ["preload"]
    assert running.client().get("/healthz").status_code == 200
