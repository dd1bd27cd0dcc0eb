"""The old management API under /api/integrations: bearer token, status, health, metrics (JSON and
Prometheus), reinitialize, WooCommerce status/sync/history, with the seed's JSON envelope."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from receiver_harness import API_TOKEN, STRIPE_SECRET, rows
from webhook_signing import stripe_event, stripe_headers

from hub.sync_runs import finish_run, start_run

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_every_route_needs_the_bearer_token(receiver: Any, engine: sa.Engine) -> None:
    running = receiver()
    with running.client() as http:
        for path in ("/api/integrations/status", "/api/integrations/metrics", "/api/integrations/health"):
            missing = http.get(path)
            assert missing.status_code == 401 and missing.json() == {
                "success": False,
                "message": "missing Authorization: Bearer <token>",
            }
            wrong = http.get(path, headers={"Authorization": "Bearer " + "x" * 30})
            assert wrong.status_code == 401 and "does not match" in wrong.json()["message"]
        assert http.get("/healthz").json() == {"status": "ok"}  # liveness: no token, no detail
    running.call(running.runtime.writer.flush())
    refused = [e for e in rows(engine, "dashboard_events") if e.event_type == "api_rejected"]
    assert len(refused) == 6 and {e.data["status"] for e in refused} == {401}


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_without_a_token_block_the_api_is_closed(receiver: Any, names: str) -> None:
    from blocks import ReceiverAPI

    running = receiver()
    ReceiverAPI.delete(names)
    running.call(running.runtime.integrations.load())
    with running.client() as http:
        resp = http.get("/api/integrations/status", headers=AUTH)
    assert resp.status_code == 503 and "nxt webhooks api-token" in resp.json()["message"]


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_status_shows_each_integration(receiver: Any) -> None:
    running = receiver()
    with running.client(headers=AUTH) as http:
        data = http.get("/api/integrations/status").json()["data"]
        services = data["services"]
        assert set(services) == {
            "woocommerce",
            "stripe",
            "paypal",
            "square",
            "authorizenet",
            "twilio",
            "sendgrid",
            "third-party",
        }
        assert services["stripe"]["configured"] and services["stripe"]["webhookVerification"] == "ready"
        assert not services["paypal"]["configured"] and not services["paypal"]["enabled"]
        assert services["woocommerce"]["circuitBreaker"] == {"state": "closed", "failures": 0}
        assert services["third-party"]["services"] == ["legacy", "shipstation"]
        assert data["inbox"] == {"pending": 0, "processing": 0, "done": 0, "failed": 0, "ignored": 0}
        one = http.get("/api/integrations/status/square").json()
        assert one["success"] and one["data"]["service"] == "square"
        unknown = http.get("/api/integrations/status/shopify")
        assert unknown.status_code == 404 and "known: woocommerce" in unknown.json()["message"]


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_reinitialize_reads_new_blocks(receiver: Any, names: str) -> None:
    from blocks import PayPalGateway

    running = receiver()
    PayPalGateway(client_id="cid", client_secret="cs", webhook_id="WH-1").save(names, overwrite=True)
    with running.client(headers=AUTH) as http:
        assert not http.get("/api/integrations/status/paypal").json()["data"]["configured"]
        answer = http.post("/api/integrations/reinitialize").json()
        assert answer["success"] and answer["data"]["services"]["paypal"]["configured"]


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_health_and_metrics(receiver: Any, engine: sa.Engine) -> None:
    running = receiver()
    body = stripe_event()
    with running.client(headers=AUTH) as http:
        http.post("/api/webhooks/stripe", content=body, headers=stripe_headers(body, STRIPE_SECRET))
        http.post("/api/webhooks/stripe", content=body, headers={"Stripe-Signature": "t=1,v1=0"})
        health = http.get("/api/integrations/health").json()
        assert health["data"]["status"] == "healthy" and health["data"]["checks"]["hub"]["ok"]
        metrics = http.get("/api/integrations/metrics").json()["data"]
        stripe_route = metrics["routes"]["/api/webhooks/stripe"]
        assert (
            stripe_route["requests"] == 2 and stripe_route["errors"] == 1 and stripe_route["errorRate"] == 0.5
        )
        assert metrics["inbox"]["pending"] == 1
        text = http.get("/api/integrations/metrics", headers={"Accept": "text/plain"})
        assert text.headers["content-type"].startswith("text/plain")
        assert 'nxt_receiver_requests_total{route="/api/webhooks/stripe",status="401"} 1' in text.text
        assert 'nxt_receiver_inbox_events{status="pending"} 1' in text.text

    async def close_interval() -> None:
        rt = running.runtime
        for row in rt.metrics.flush():
            rt.writer.record("metrics", row)
        await rt.writer.flush()

    running.call(close_interval())
    written = {(m.metric_name, m.tags["route"]): m for m in rows(engine, "dashboard_metrics")}
    rate = written[("api_error_rate", "/api/webhooks/stripe")]
    assert rate.metric_value == 0.5 and rate.tags["requests"] == 2 and rate.tags["errors_4xx"] == 1
    assert written[("api_response_time", "/api/webhooks/stripe")].tags["p99"] > 0
    # one row per metric and route for the interval, not one per request
    assert sum(1 for name, route in written if route == "/api/webhooks/stripe") == 4


def test_woocommerce_status_and_history_in_the_seed_shape(
    receiver: Any, engine: sa.Engine, names: str
) -> None:
    running = receiver()
    with engine.begin() as conn:
        run = start_run(conn, store=names, sync_type="full", direction="pull", flow_run_id=None)
        finish_run(conn, run, status="completed", counts={"fetched": 3})
    with running.client(headers=AUTH) as http:
        status = http.get("/api/integrations/woocommerce/status", params={"store": names}).json()
        assert status["success"] and status["data"]["stats"]["totalSyncs"] == 1
        assert status["data"]["config"] == {
            "realTimeEnabled": True,
            "batchSize": 10,
            "conflictResolution": "timestamp",
        }
        history = http.get("/api/integrations/woocommerce/sync/history", params={"store": names}).json()
        assert [h["syncType"] for h in history["data"]] == ["full"]


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_woocommerce_sync_starts_a_flow_run_and_answers_its_id(
    sandbox: Any, names: str, engine: sa.Engine, monkeypatch: Any
) -> None:
    from receiver_harness import save_sandbox_blocks, settings_for, start_receiver

    save_sandbox_blocks(names, sandbox)
    monkeypatch.setenv("NXT_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    running = start_receiver(settings_for(names), engine)
    try:
        with running.client(headers=AUTH) as http:
            bad = http.post("/api/integrations/woocommerce/sync", json={"syncType": "everything"})
            assert bad.status_code == 400 and bad.json()["message"].startswith("syncType:")
            body = {"syncType": "products", "direction": "pull", "options": {"batchSize": 20}, "store": names}
            started = http.post(
                "/api/integrations/woocommerce/sync", json=body, headers={"Idempotency-Key": "k1"}
            )
            assert started.status_code == 202, started.text
            flow_run_id = started.json()["data"]["flowRunId"]
            again = http.post(
                "/api/integrations/woocommerce/sync", json=body, headers={"Idempotency-Key": "k1"}
            )
            assert again.json()["data"]["flowRunId"] == flow_run_id

            async def finished() -> None:
                await asyncio.gather(*running.runtime.starter.background)

            running.call(finished())
            history = http.get("/api/integrations/woocommerce/sync/history", params={"store": names}).json()[
                "data"
            ]
        assert [(h["syncType"], h["status"], h["flowRunId"]) for h in history] == [
            ("products", "completed", flow_run_id)
        ]
    finally:
        running.stop()
