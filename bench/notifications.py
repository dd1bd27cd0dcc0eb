"""Benchmark of the notification dispatch (issue 11). Prints its figures, then one JSON line.

    uv run python bench/notifications.py            # 10,000 emails, 1,000 texts at 20/s, faults phase
    uv run python bench/notifications.py --quick    # smaller, to check the script itself

What it does, all on this machine, with the Twilio and SendGrid stand-ins in their own process
(`nxt sandbox up --json --services twilio,sendgrid`) and the `notification-dispatch` flow on a Prefect
test server, into a fresh SQLite hub per phase:

1. emails: 10,000 order confirmations are raised (`hub.notifications.notify`, email only) and one dispatch
   run sends them; the SendGrid calls are counted from the stand-in's record of every Mail Send request.
2. texts: 1,000 texts (`submit_sms`) from one sender whose block says `messages_per_second` = R (the
   stand-in's sender is set to the same rate); one dispatch run sends them. The most texts the stand-in
   received in any one-second window is its own record (`max_received_per_s`).
3. faults: 10 % of every request to both stand-ins answers 500/502/503 (2,000 emails, 500 texts at
   100/s); dispatch runs repeat (waiting for the leases of sends in doubt) until nothing is queued or in
   flight. Duplicates and losses are counted from the stand-ins' records: a text is identified by its
   (number, body), an email by its `nxt_id` custom argument; `lost` are outbox rows the stand-in never
   received, `duplicates` are receipts beyond the first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_sandbox() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    cmd = [
        sys.executable,
        "-m",
        "deployments.cli",
        "sandbox",
        "up",
        "--json",
        "--services",
        "twilio,sendgrid",
        "--seed",
        "1",
        "--products",
        "10",
        "--customers",
        "10",
        "--orders",
        "10",
        "--contact-flag-rate",
        "0",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("the sandbox did not start")
    return proc, json.loads(line)


def admin(info: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    r = httpx.request(method, info["admin_url"] + path, json=body, timeout=120)
    r.raise_for_status()
    return r.json() if r.content else None


def order(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "number": str(100000 + i),
        "status": "processing",
        "total": f"{10 + i % 90}.{i % 100:02d}",
        "currency": "USD",
        "billing": {"first_name": f"Customer{i}", "email": f"customer{i}@example.com", "phone": ""},
        "line_items": [{"name": "Mug", "quantity": 1 + i % 3, "total": f"{10 + i % 90}.00"}],
    }


def phone(i: int) -> str:
    return f"+1{200 + i // 10000 % 800}555{i % 10000:04d}"


class Bench:
    def __init__(self, info: dict[str, Any], tmp: Path) -> None:
        self.info = info
        self.tmp = tmp
        self.tw, self.sg = info["twilio"], info["sendgrid"]

    def blocks(self, name: str, rate: float) -> None:
        from blocks import NotificationSettings, SendGridEmail, TwilioSMS

        TwilioSMS(
            account_sid=self.tw["account_sid"],
            auth_token=self.tw["auth_token"],
            from_number=self.tw["from_number"],
            base_url=self.tw["base_url"],
            messages_per_second=rate,
            max_retries=0,
            timeout_ms=10_000,
        ).save(name, overwrite=True)
        SendGridEmail(
            api_key=self.sg["api_key"],
            from_email=self.sg["from_email"],
            base_url=self.sg["base_url"],
            timeout_ms=60_000,
        ).save(name, overwrite=True)
        NotificationSettings(shop_name="Bench Shop", retry_base_s=0, retry_max_s=0, max_attempts=20).save(
            name, overwrite=True
        )
        admin(self.tw, "PUT", f"/twilio/senders/{self.tw['from_number']}", {"mps": rate})

    def hub(self, name: str) -> Any:
        from hub.db import create_hub_engine

        url = f"sqlite:///{self.tmp / f'{name}.db'}"
        os.environ["NXT_DATABASE_URL"] = url
        return create_hub_engine(url)

    def dispatch(self, name: str, limit: int = 100_000) -> dict[str, Any]:
        from flows.notification_dispatch import NotificationError, dispatch_notifications

        try:
            return asyncio.run(dispatch_notifications(limit=limit, sms=name, email=name, settings=name))
        except NotificationError as exc:
            return {"status": "failed", "error": str(exc), "counts": {}}


def phase_emails(b: Bench, n: int) -> dict[str, Any]:
    from hub.notifications import notification_messages
    from hub.outbox import enqueue

    name = f"emails-{uuid.uuid4().hex[:6]}"
    b.blocks(name, 100)
    engine = b.hub(name)
    calls_before = len(admin(b.sg, "GET", "/sendgrid/calls"))
    messages = [
        m
        for i in range(n)
        for m in notification_messages(
            "order-confirmation", store="bench", order=order(i), channels=["email"]
        )
    ]
    with engine.begin() as conn:
        enqueue(conn, messages)
    started = time.perf_counter()
    summary = b.dispatch(name)
    seconds = time.perf_counter() - started
    calls = admin(b.sg, "GET", "/sendgrid/calls")[calls_before:]
    accepted = sum(c["personalizations"] for c in calls if c["status"] == 202)
    print(
        f"emails: {n:,} order confirmations -> {accepted:,} accepted in {len(calls)} SendGrid calls, "
        f"{seconds:.1f}s (run {summary['status']})"
    )
    return {"emails": accepted, "sendgrid_calls": len(calls), "email_seconds": round(seconds, 2)}


def phase_texts(b: Bench, n: int, rate: float) -> dict[str, Any]:
    from hub.notifications import submit_sms

    name = f"texts-{uuid.uuid4().hex[:6]}"
    b.blocks(name, rate)
    engine = b.hub(name)
    before = {m["sid"] for m in admin(b.tw, "GET", "/twilio/messages")}
    for i in range(n):
        submit_sms(engine, phone(10_000 + i), f"Your order {i} is confirmed.")
    started = time.perf_counter()
    summary = b.dispatch(name)
    seconds = time.perf_counter() - started
    sent = [m for m in admin(b.tw, "GET", "/twilio/messages") if m["sid"] not in before]
    from sandbox.twilio.admin import max_rate  # the stand-in's own window count, over this phase only

    seen = max_rate([m["received_at"] for m in sent])
    print(
        f"texts: {len(sent):,} sent in {seconds:.1f}s at a configured {rate:g}/s; most received in one "
        f"second: {seen} (run {summary['status']})"
    )
    return {
        "sms": len(sent),
        "sms_rate_limit_per_s": rate,
        "sms_max_rate_seen_per_s": seen,
        "sms_seconds": round(seconds, 2),
    }


def phase_faults(b: Bench, emails: int, texts: int, rate: float) -> dict[str, Any]:
    from hub import outbox
    from hub.notifications import notification_messages, submit_sms

    name = f"faults-{uuid.uuid4().hex[:6]}"
    b.blocks(name, rate)
    engine = b.hub(name)
    sms_before = {m["sid"] for m in admin(b.tw, "GET", "/twilio/messages")}
    emails_before = len(admin(b.sg, "GET", "/sendgrid/emails"))
    calls_before = len(admin(b.sg, "GET", "/sendgrid/calls"))
    # 100 send times, so that ~100 Mail Send requests meet the faults (one send time would make one
    # request per 1,000 emails, and 10 % of 2 requests is no test)
    now = datetime.now(UTC)
    messages = [
        replace(m, send_at=now - timedelta(seconds=i % 100))
        for i in range(emails)
        for m in notification_messages(
            "order-completed", store="faults", order=order(500_000 + i), channels=["email"]
        )
    ]
    outbox.enqueue(engine, messages)
    for i in range(texts):
        submit_sms(engine, phone(50_000 + i), f"Your parcel {i} is on its way.")
    fault = {"error_rate": 0.1, "seed": 11}
    admin(b.tw, "PUT", "/faults", fault)
    admin(b.sg, "PUT", "/faults", fault)
    started = time.perf_counter()
    runs = 0
    try:
        while True:
            runs += 1
            result = b.dispatch(name)
            if os.environ.get("NXT_BENCH_DEBUG"):
                print(result)
            counts = outbox.counts_by_status(engine)
            open_rows = sum(
                n for c in counts.values() for s, n in c.items() if s in ("queued", "claimed", "sending")
            )
            if not open_rows or runs >= 40:
                break
            time.sleep(2)  # sends in doubt wait (5 s) for their lease before Twilio is asked about them
    finally:
        admin(b.tw, "DELETE", "/faults")
        admin(b.sg, "DELETE", "/faults")
    seconds = time.perf_counter() - started
    rows = outbox.list_messages(engine, limit=1_000_000)
    sms_rows = [r for r in rows if r["channel"] == "sms"]
    email_rows = [r for r in rows if r["channel"] == "email"]

    received_sms = Counter(
        (m["to"], m["body"]) for m in admin(b.tw, "GET", "/twilio/messages") if m["sid"] not in sms_before
    )
    loaded = {r.id: r for r in outbox.load(engine, [r["id"] for r in sms_rows])}
    wanted_sms = {(loaded[r["id"]].recipient, loaded[r["id"]].payload["body"]) for r in sms_rows}
    received_emails = Counter(
        e["custom_args"].get("nxt_id") for e in admin(b.sg, "GET", "/sendgrid/emails")[emails_before:]
    )
    wanted_emails = {str(r["id"]) for r in email_rows}

    duplicates = sum(n - 1 for n in received_sms.values() if n > 1) + sum(
        n - 1 for n in received_emails.values() if n > 1
    )
    lost = len(wanted_sms - set(received_sms)) + len(wanted_emails - set(received_emails))
    statuses = Counter(r["status"] for r in rows)
    calls = admin(b.sg, "GET", "/sendgrid/calls")[calls_before:]
    faults = {
        "twilio": admin(b.tw, "GET", "/stats").get("faults", {}),
        "sendgrid": admin(b.sg, "GET", "/stats").get("faults", {}),
        "sendgrid_calls_answered": Counter(c["status"] for c in calls),
    }
    print(
        f"faults: 10% errors; {emails:,} emails + {texts:,} texts settled in {runs} dispatch runs, "
        f"{seconds:.1f}s; outbox {dict(statuses)}; duplicates {duplicates}, lost {lost}; injected {faults}"
    )
    return {
        "fault_rate": 0.1,
        "duplicates": duplicates,
        "lost": lost,
        "fault_runs": runs,
        "fault_seconds": round(seconds, 2),
        "fault_statuses": dict(statuses),
        "faults_injected": {
            "twilio": sum(faults["twilio"].values()),
            "sendgrid": sum(faults["sendgrid"].values()),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run, to check the script")
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--texts", type=int, default=1_000)
    parser.add_argument("--rate", type=float, default=20.0, help="the sender's messages per second")
    args = parser.parse_args()
    if args.quick:
        args.emails, args.texts, args.rate = 1_500, 60, 20.0

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    proc, info = start_sandbox()
    try:
        with tempfile.TemporaryDirectory() as tmp, prefect_test_harness(server_startup_timeout=120):
            with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                bench = Bench(info, Path(tmp))
                figures: dict[str, Any] = {}
                figures |= phase_emails(bench, args.emails)
                figures |= phase_texts(bench, args.texts, args.rate)
                figures |= phase_faults(bench, max(200, args.emails // 5), max(50, args.texts // 2), 100.0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    keys = [
        "emails",
        "sendgrid_calls",
        "sms",
        "sms_rate_limit_per_s",
        "sms_max_rate_seen_per_s",
        "fault_rate",
        "duplicates",
        "lost",
    ]
    print(
        json.dumps({**{k: figures[k] for k in keys}, **{k: v for k, v in figures.items() if k not in keys}})
    )


if __name__ == "__main__":
    main()
