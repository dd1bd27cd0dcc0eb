"""The phones and emails WooCommerce serves are the world's, so the messaging stand-ins recognise them."""

from __future__ import annotations

from sandbox.contacts import EMAIL_FLAGS, SMS_FLAGS
from sandbox.world import ORDER_STATUSES


def test_customers_serve_the_world_contacts(shared_sb, client) -> None:
    w = shared_sb.world
    served = client.get("/customers", params={"per_page": 100}).json()
    assert len(served) == len(w.customers)
    flags = set()
    for c in served:
        rec = w.customers[c["id"]]
        assert c["billing"]["phone"] == rec.phone and c["billing"]["email"] == c["email"] == rec.email
        assert c["shipping"]["phone"] == rec.phone
        sms = w.contact_flags(c["billing"]["phone"], "sms")
        email = w.contact_flags(c["email"], "email")
        assert (sms.flag if sms else "") == rec.phone_flag
        assert (email.flag if email else "") == rec.email_flag
        flags |= {("sms", rec.phone_flag), ("email", rec.email_flag)}
    assert flags - {("sms", ""), ("email", "")}, "no flagged customer in this world"
    assert {f for _, f in flags} <= {"", *SMS_FLAGS, *EMAIL_FLAGS}


def test_orders_serve_the_world_contacts(shared_sb, client) -> None:
    w = shared_sb.world
    params = {"per_page": 100, "status": ",".join(ORDER_STATUSES)}
    served = client.get("/orders", params=params).json()
    served += client.get("/orders", params={**params, "page": 2}).json()
    assert len(served) == len(w.orders)
    seen = set()
    for o in served:
        rec = w.orders[o["id"]]
        billing = o["billing"]
        assert billing["phone"] == rec.billing_phone and billing["email"] == rec.billing_email
        if rec.customer_id:  # a registered customer's orders carry the customer's contacts
            customer = w.customers[rec.customer_id]
            assert billing["phone"] == customer.phone and billing["email"] == customer.email
            expected_sms, expected_email = customer.phone_flag, customer.email_flag
        else:
            expected_sms, expected_email = rec.billing_phone_flag, rec.billing_email_flag
        sms = w.contact_flags(billing["phone"], "sms")
        email = w.contact_flags(billing["email"], "email")
        assert (sms.flag if sms else "") == expected_sms
        assert (email.flag if email else "") == expected_email
        seen |= {("sms", expected_sms), ("email", expected_email)}
    assert len(seen - {("sms", ""), ("email", "")}) >= 4, "too few flagged contacts on orders"


def test_written_phones_are_what_is_served_and_known(fresh_sb, fresh_client, make_api) -> None:
    w = fresh_sb.world
    cid = sorted(w.customers)[0]
    r = fresh_client.put(f"/customers/{cid}", json={"billing": {"phone": "+14155550100"}})
    assert r.status_code == 200 and r.json()["billing"]["phone"] == "+14155550100"
    assert w.customers[cid].phone == "+14155550100"
    assert fresh_client.get(f"/customers/{cid}").json()["billing"]["phone"] == "+14155550100"

    created = make_api(fresh_sb).post(
        "customers", {"email": "new.buyer@example.org", "billing": {"phone": "+12065550111"}}
    )
    assert created.status_code == 201 and created.json()["billing"]["phone"] == "+12065550111"
    assert w.customers[created.json()["id"]].phone == "+12065550111"

    pid = next(p.id for p in w.products.values() if p.type == "simple" and p.status == "publish")
    billing = {"first_name": "Guest", "email": "guest@example.net", "phone": "+13125550142"}
    o = fresh_client.post("/orders", json={"billing": billing, "line_items": [{"product_id": pid}]}).json()
    assert o["billing"]["phone"] == "+13125550142" and o["billing"]["address_1"] == ""
    assert w.orders[o["id"]].billing_phone == "+13125550142"
    moved = fresh_client.put(f"/orders/{o['id']}", json={"billing": {"phone": "+13125550143"}}).json()
    assert moved["billing"]["phone"] == "+13125550143" and moved["billing"]["email"] == "guest@example.net"
    assert w.orders[o["id"]].billing_phone == "+13125550143"
