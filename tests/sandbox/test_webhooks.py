"""Webhooks: CRUD, the unsigned ping, signed deliveries with WooCommerce's headers, no retries, disable."""

from __future__ import annotations

import json

import httpx

from sandbox.testing import WebhookReceiver, verify_webhook_signature
from sandbox.woocommerce import sign_webhook


def test_signature_vector() -> None:
    assert sign_webhook(b'{"id":1}', "s3cr3t") == "z1PTSunFKhGV0B2iDV3egGE8TThlQMRrvLklMBTdxQU="


def test_create_pings_then_delivers_signed(fresh_sb, fresh_client) -> None:
    with WebhookReceiver() as rx:
        r = fresh_client.post(
            "/webhooks",
            json={"name": "t", "topic": "product.updated", "delivery_url": rx.url, "secret": "s3cr3t"},
        )
        assert r.status_code == 201
        hook = r.json()
        assert (hook["status"], hook["resource"], hook["event"]) == ("active", "product", "updated")
        assert "secret" not in hook
        (ping,) = rx.wait_for(1)
        assert ping.body == f"webhook_id={hook['id']}".encode()
        assert not any(h.startswith("x-wc-webhook") for h in ping.headers)

        pid = sorted(fresh_sb.world.products)[0]
        fresh_client.put(f"/products/{pid}", json={"name": "Webhooked"})
        fresh_sb.flush_webhooks()
        delivery = rx.wait_for(2)[1]
    h = delivery.headers
    assert h["x-wc-webhook-topic"] == "product.updated"
    assert h["x-wc-webhook-resource"] == "product" and h["x-wc-webhook-event"] == "updated"
    assert h["x-wc-webhook-id"] == str(hook["id"])
    assert len(h["x-wc-webhook-delivery-id"]) == 32
    assert h["x-wc-webhook-source"] == fresh_sb.urls["woocommerce"] + "/"
    assert h["content-type"] == "application/json"
    assert h["user-agent"].startswith("WooCommerce/") and "Hookshot" in h["user-agent"]
    assert verify_webhook_signature(delivery.body, "s3cr3t", h["x-wc-webhook-signature"])
    body = json.loads(delivery.body)
    assert body["id"] == pid and body["name"] == "Webhooked"
    log = fresh_sb.woocommerce.deliveries.list(kind="delivery")
    assert log[-1]["status_code"] == 200 and log[-1]["success"] is True


def test_default_secret_is_the_sandbox_webhook_secret(fresh_sb, fresh_client) -> None:
    with WebhookReceiver() as rx:
        fresh_client.post("/webhooks", json={"topic": "order.created", "delivery_url": rx.url})
        pid = next(
            p.id for p in fresh_sb.world.products.values() if p.status == "publish" and p.type == "simple"
        )
        fresh_client.post("/orders", json={"line_items": [{"product_id": pid, "quantity": 1}]})
        fresh_sb.flush_webhooks()
        d = rx.wait_for(2)[1]
    secret = fresh_sb.credentials["woocommerce"]["webhook_secret"]
    assert verify_webhook_signature(d.body, secret, d.headers["x-wc-webhook-signature"])
    assert d.headers["x-wc-webhook-topic"] == "order.created"


def test_deleted_and_restored_bodies(fresh_sb, fresh_client) -> None:
    with WebhookReceiver() as rx:
        for topic in ("order.deleted", "order.restored"):
            fresh_client.post("/webhooks", json={"topic": topic, "delivery_url": rx.url})
        oid = next(o.id for o in fresh_sb.world.orders.values() if o.status == "completed")
        fresh_client.delete(f"/orders/{oid}")
        fresh_sb.flush_webhooks()
        httpx.post(f"{fresh_sb.admin_url()}/woocommerce/orders/{oid}/restore", json={})
        fresh_sb.flush_webhooks()
        got = rx.wait_for(4)
    deleted, restored = got[2], got[3]
    assert json.loads(deleted.body) == {"id": oid}
    assert deleted.headers["x-wc-webhook-event"] == "deleted"
    assert json.loads(restored.body)["status"] == "completed"


def test_no_retries_and_disabled_after_seventh_failure(fresh_sb, fresh_client) -> None:
    with WebhookReceiver(status=500) as rx:
        hook = fresh_client.post(
            "/webhooks", json={"topic": "product.updated", "delivery_url": rx.url}
        ).json()
        admin = fresh_sb.admin_url()
        pid = sorted(fresh_sb.world.products)[0]
        for i in range(8):
            httpx.post(f"{admin}/woocommerce/products/touch", json={"ids": [pid]})
            fresh_sb.flush_webhooks()
            status = fresh_client.get(f"/webhooks/{hook['id']}").json()["status"]
            assert status == ("disabled" if i >= 6 else "active"), i
        got = rx.wait_for(1 + 7)  # ping + 7 failed deliveries; none retried, none after disabling
    assert len(got) == 8
    hooks = httpx.get(f"{admin}/woocommerce/webhooks").json()
    assert hooks[0]["failure_count"] == 6 and hooks[0]["status"] == "disabled"


def test_success_resets_failure_count(fresh_sb, fresh_client) -> None:
    answers = iter([500, 500, 200, 500])
    with WebhookReceiver(
        status=lambda req: 200 if req.body.startswith(b"webhook_id") else next(answers)
    ) as rx:
        hook = fresh_client.post(
            "/webhooks", json={"topic": "customer.updated", "delivery_url": rx.url}
        ).json()
        cid = sorted(fresh_sb.world.customers)[0]
        for _ in range(4):
            httpx.post(f"{fresh_sb.admin_url()}/woocommerce/customers/touch", json={"ids": [cid]})
            fresh_sb.flush_webhooks()
        rx.wait_for(5)
    counts = [d["failure_count"] for d in fresh_sb.woocommerce.deliveries.list(kind="delivery")]
    assert counts == [1, 2, 0, 1]
    assert fresh_client.get(f"/webhooks/{hook['id']}").json()["status"] == "active"


def test_unreachable_receiver_counts_as_failure(fresh_sb, fresh_client) -> None:
    fresh_client.post(
        "/webhooks", json={"topic": "product.updated", "delivery_url": "http://127.0.0.1:9/nothing"}
    )
    httpx.post(f"{fresh_sb.admin_url()}/woocommerce/products/touch", json={"count": 1})
    fresh_sb.flush_webhooks()
    (d,) = fresh_sb.woocommerce.deliveries.list(kind="delivery")
    assert d["status_code"] == 0 and d["error"] and d["failure_count"] == 1


def test_webhook_crud_and_errors(fresh_sb, fresh_client, make_api) -> None:
    api = make_api(fresh_sb)
    r = api.post(
        "webhooks", {"topic": "order.updated", "delivery_url": "http://127.0.0.1:9/x", "status": "paused"}
    )
    assert r.status_code == 201
    hid = r.json()["id"]
    assert api.get("webhooks").json()[0]["id"] == hid
    assert api.get("webhooks", params={"status": "active"}).json() == []
    assert api.put(f"webhooks/{hid}", {"name": "renamed"}).json()["name"] == "renamed"
    assert fresh_client.delete(f"/webhooks/{hid}").status_code == 501
    assert api.delete(f"webhooks/{hid}", params={"force": True}).status_code == 200
    assert api.get(f"webhooks/{hid}").status_code == 404
    bad = fresh_client.post("/webhooks", json={"topic": "product.exploded", "delivery_url": "http://x.test/"})
    assert bad.status_code == 400 and bad.json()["code"] == "woocommerce_rest_webhook_invalid_topic"
    missing = fresh_client.post("/webhooks", json={"topic": "product.updated"})
    assert missing.status_code == 400 and missing.json()["code"] == "rest_missing_callback_param"


def test_paused_webhook_does_not_deliver_and_admin_trigger_does(fresh_sb, fresh_client) -> None:
    with WebhookReceiver() as rx:
        hook = fresh_client.post(
            "/webhooks", json={"topic": "product.updated", "delivery_url": rx.url, "status": "paused"}
        ).json()
        pid = sorted(fresh_sb.world.products)[0]
        httpx.post(f"{fresh_sb.admin_url()}/woocommerce/products/touch", json={"ids": [pid]})
        fresh_sb.flush_webhooks()
        r = httpx.post(
            f"{fresh_sb.admin_url()}/woocommerce/webhooks/{hook['id']}/deliver", json={"resource_id": pid}
        )
        assert r.json()["status_code"] == 200
        got = rx.wait_for(2)
    assert len(got) == 2 and json.loads(got[1].body)["id"] == pid
    listed = httpx.get(f"{fresh_sb.admin_url()}/deliveries").json()
    assert [d["kind"] for d in listed] == ["ping", "delivery"]
