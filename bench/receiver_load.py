"""Load test of the webhook receiver: acknowledgement latency at a fixed rate, the highest rate it holds,
exactly-once storage and processing, and no acknowledged event lost to a SIGKILL.

    uv run python bench/receiver_load.py                       # SQLite hub
    uv run python bench/receiver_load.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

What runs (each its own process, all on 127.0.0.1): a Prefect server (blocks, events, flow runs), the
receiver (`nxt receiver`, uvicorn with httptools and uvloop, its dispatcher in a child process), and a
load generator that sends pre-signed Stripe and WooCommerce webhooks (half each) open loop: request i is
due at t0 + i / rate whatever happened to the ones before, latency is measured from that due time to the
end of the answer (so a stall is counted, not hidden), over at most `--connections` keep-alive
connections. The WooCommerce events name records of a sandbox store served by this script, so their
processing is real `woocommerce-sync-records` flow runs; the Stripe events start real `ingest-ledger`
runs against the sandbox's Stripe.

Rounds: `--rate` (300/s) for `--seconds` (30 s): p50/p99 and errors; then rising rates (`--rates`) for
the same time until one fails p99 <= 100 ms or has an error: the highest that held is
`max_rate_p99_under_100ms`. Before each rate, and then, the dispatcher is waited for (the backlog's
processing rate is printed) and every acknowledged event is checked: in the inbox exactly once
(`stored`), `done` with exactly one `webhook_processed` row (`processed`). Last, a kill round: load at
`--rate` for `--kill-seconds`, the receiver SIGKILLed half-way and restarted at once; `lost_after_kill`
counts acknowledged events missing from the inbox afterwards.

Ends with one JSON line per database: rate, seconds, p50_ms, p99_ms, errors, max_rate_p99_under_100ms,
acked, stored, processed, lost_after_kill, database.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STRIPE_SECRET = "whsec_bench_receiver_secret"
BLOCKS = "bench"
TOKEN = "bench-token-" + "x" * 20


# --------------------------------------------------------------------------------------------------
# Load generator (its own process): a minimal HTTP/1.1 keep-alive client, open loop.


_FIRST_ERROR: list[str] = []


async def _send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    if status != 200 and not _FIRST_ERROR:
        _FIRST_ERROR.append(f"{status} {body[:300].decode(errors='replace')}")
    return status


async def loadgen(url: str, requests: list[dict[str, Any]], rate: float, connections: int) -> list[list[Any]]:
    host, port = url.removeprefix("http://").split(":")
    raws = []
    for r in requests:
        body = r["body"].encode()
        head = f"POST {r['path']} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in r["headers"].items())
        raws.append(head.encode() + b"\r\n" + body)
    pool: asyncio.Queue[tuple[Any, Any] | None] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(None)  # a slot; connected on first use
    # [key, status, latency from the due time (ms), how late the request was written (ms): the load
    # generator's own lag, waiting for a free connection or for the CPU]
    results: list[list[Any]] = [[r["key"], 0, 0.0, 0.0] for r in requests]
    start = time.perf_counter() + 0.2

    async def one(i: int) -> None:
        due = start + i / rate
        conn = await pool.get()
        try:
            for attempt in range(2):
                try:
                    if conn is None:
                        conn = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 5)
                    results[i][3] = (time.perf_counter() - due) * 1000
                    status = await asyncio.wait_for(_send(conn[0], conn[1], raws[i]), 30)
                    results[i][1] = status
                    break
                except (OSError, RuntimeError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                    if conn is not None:
                        conn[1].close()
                    conn = None
                    results[i][1] = -1
                    if attempt == 0:
                        continue  # a stale keep-alive connection: once more on a new one
            results[i][2] = (time.perf_counter() - due) * 1000
        finally:
            pool.put_nowait(conn)

    tasks = []
    for i in range(len(requests)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return results


def run_loadgen(args: argparse.Namespace) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    requests = [json.loads(line) for line in Path(args.requests).read_text().splitlines()]
    results = asyncio.run(loadgen(args.url, requests, args.rate, args.connections))
    Path(args.out).write_text(json.dumps(results))
    if _FIRST_ERROR:
        print(f"first refusal: {_FIRST_ERROR[0]}", file=sys.stderr)


# --------------------------------------------------------------------------------------------------
# Orchestrator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, deadline_s: float, proc: subprocess.Popen[Any] | None = None) -> None:
    import httpx

    deadline = time.monotonic() + deadline_s
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}) before {url} answered")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {deadline_s}s")
        time.sleep(0.2)


def start_prefect(home: Path) -> tuple[subprocess.Popen[Any], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false")
    log = open(home / "server.log", "w")  # noqa: SIM115 - the process owns it
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api"
    wait_http(url + "/health", 240, proc)
    return proc, url


class Receiver:
    def __init__(self, env: dict[str, str], port: int, log: Path, extra: tuple[str, ...] = ()) -> None:
        self.env, self.port, self.log, self.extra = env, port, log, extra
        self.proc: subprocess.Popen[Any] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        out = open(self.log, "a")  # noqa: SIM115 - the process owns it
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deployments.cli",
                "receiver",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                *self.extra,
            ],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        wait_http(self.url + "/healthz", 120, self.proc)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def make_requests(
    n: int, store: str, secret_woo: str, products: list[int], orders: list[int]
) -> list[dict[str, Any]]:
    """Half Stripe events, half WooCommerce deliveries (all distinct), each with its inbox key."""
    import stripe

    out = []
    now = int(time.time())
    for i in range(n):
        if i % 2 == 0:
            event_id = f"evt_{uuid.uuid4().hex[:24]}"
            body = json.dumps(
                {
                    "id": event_id,
                    "object": "event",
                    "type": "charge.succeeded",
                    "created": now,
                    "data": {
                        "object": {
                            "id": f"ch_{uuid.uuid4().hex[:24]}",
                            "object": "charge",
                            "amount": 1000 + i,
                        }
                    },
                }
            )
            headers = {
                "Content-Type": "application/json",
                "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
                    body, STRIPE_SECRET, now
                ),
            }
            out.append(
                {
                    "path": "/api/webhooks/stripe",
                    "headers": headers,
                    "body": body,
                    "key": ["stripe", event_id],
                }
            )
        else:
            kind, ids = ("product", products) if i % 4 == 1 else ("order", orders)
            rid = ids[(i // 4) % len(ids)]
            body = json.dumps(
                {"id": rid, "date_modified_gmt": "2026-01-01T00:00:00", "delivery": uuid.uuid4().hex}
            )
            raw = body.encode()
            topic = f"{kind}.updated"
            sig = base64.b64encode(hmac.new(secret_woo.encode(), raw, hashlib.sha256).digest()).decode()
            headers = {
                "Content-Type": "application/json",
                "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Signature": sig,
            }
            key = f"{store}:{topic}:{rid}:{hashlib.sha256(raw).hexdigest()[:32]}"
            out.append(
                {
                    "path": "/api/webhooks/woocommerce",
                    "headers": headers,
                    "body": body,
                    "key": ["woocommerce", key],
                }
            )
    return out


def run_round(
    receiver: Receiver,
    requests: list[dict[str, Any]],
    rate: float,
    connections: int,
    work: Path,
    kill_after: float | None = None,
    profile: Path | None = None,
) -> dict[str, Any]:
    req_file, out_file = work / f"req-{rate}-{time.time()}.jsonl", work / f"out-{rate}-{time.time()}.json"
    req_file.write_text("\n".join(json.dumps(r) for r in requests))
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--loadgen",
            "--url",
            receiver.url,
            "--requests",
            str(req_file),
            "--rate",
            str(rate),
            "--connections",
            str(connections),
            "--out",
            str(out_file),
        ]
    )
    spy = None
    if profile is not None and receiver.proc is not None:
        # py-spy (`uv tool install py-spy`) samples the receiver while the load runs: collapsed stacks
        spy = subprocess.Popen(
            [
                "py-spy",
                "record",
                "--pid",
                str(receiver.proc.pid),
                "--rate",
                "250",
                "--format",
                "raw",
                "--threads",
                "--idle",
                "--nonblocking",
                "--duration",
                str(int(len(requests) / rate) + 1),
                "--output",
                str(profile),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    if kill_after is not None:
        time.sleep(kill_after)  # the kill lands mid-load, wherever it is
        receiver.kill()
        receiver.start()
    proc.wait()
    if spy is not None:
        spy.wait()
    results = json.loads(out_file.read_text())
    ok = sorted(r[2] for r in results if r[1] == 200)
    errors = sum(1 for r in results if r[1] != 200)

    def pct(q: float) -> float:
        return round(ok[min(len(ok) - 1, max(0, int(q * len(ok) + 0.5) - 1))], 2) if ok else 0.0

    lag = sorted(r[3] for r in results if r[1] == 200)
    server = _server_times(receiver)
    return {
        "rate": rate,
        "sent": len(results),
        "send_lag_p99_ms": round(lag[min(len(lag) - 1, int(0.99 * len(lag)))], 2) if lag else 0.0,
        "server": server,
        "acked": len(ok),
        "errors": errors,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(ok[-1], 2) if ok else 0.0,
        "acked_keys": [tuple(r[0]) for r in results if r[1] == 200],
    }


def _server_times(receiver: Receiver) -> dict[str, Any]:
    """The receiver's own p50/p99 per webhook route this metrics interval (from request start to the
    last byte of the answer, inside the process): what the receiver adds, without the network, the
    load generator and time spent waiting to be read."""
    import httpx

    try:
        routes = httpx.get(
            receiver.url + "/api/integrations/metrics",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        ).json()["data"]["routes"]
    except (httpx.HTTPError, KeyError, ValueError):
        return {}
    return {
        path: route.get("currentInterval")
        for path, route in routes.items()
        if path.startswith("/api/webhooks") and route.get("currentInterval")
    }


def wait_processed(engine: Any, deadline_s: float, database: str = "") -> None:
    """Wait until the dispatcher has closed every row; prints how fast it worked off the backlog."""
    import sqlalchemy as sa

    started = time.monotonic()
    deadline = started + deadline_s
    backlog = None
    while True:
        with engine.connect() as conn:
            left = conn.execute(
                sa.text("SELECT count(*) FROM webhook_events WHERE status IN ('pending', 'processing')")
            ).scalar_one()
        backlog = left if backlog is None else backlog
        if not left:
            took = time.monotonic() - started
            if backlog > 1000:
                print(
                    f"[{database}] backlog of {backlog} events processed in {took:.0f} s "
                    f"({backlog / took:.0f}/s, load average {_load()})",
                    flush=True,
                )
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{left} events still not processed after {deadline_s}s")
        time.sleep(1)


def check(engine: Any, acked: list[tuple[str, str]]) -> tuple[int, int, int]:
    """(stored exactly once, processed exactly once, missing) over the acknowledged keys."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        stored = {
            (s, k): (i, st)
            for i, s, k, st in conn.execute(
                sa.text("SELECT id, source, event_key, status FROM webhook_events")
            )
        }
        processed: dict[int, int] = {}
        for (data,) in conn.execute(
            sa.text("SELECT data FROM dashboard_events WHERE event_type = 'webhook_processed'")
        ):
            d = data if isinstance(data, dict) else json.loads(data)
            processed[d["inbox_id"]] = processed.get(d["inbox_id"], 0) + 1
    present = [stored[k] for k in set(acked) if k in stored]
    missing = len(set(acked)) - len(present)
    done_once = sum(1 for i, st in present if st == "done" and processed.get(i) == 1)
    return len(present), done_once, missing


def bench(
    database: str, hub_url: str, args: argparse.Namespace, prefect_url: str, work: Path
) -> dict[str, Any]:
    import sqlalchemy as sa

    from blocks import ReceiverAPI, StripeGateway, ThirdPartyWebhookSecrets, WooCommerceStore
    from hub.db import create_hub_engine
    from sandbox.server import run_sandbox

    engine = create_hub_engine(hub_url)
    # Stripe events start ledger ingestion for Stripe: the sandbox's Stripe serves it (30 days of history).
    with run_sandbox(
        services=("woocommerce", "stripe"), products=60, customers=10, orders=60, seed=5, history_days=30
    ) as sb:
        creds = sb.credentials["woocommerce"]
        WooCommerceStore(
            site_url=sb.urls["woocommerce"],
            consumer_key=creds["consumer_key"],
            consumer_secret=creds["consumer_secret"],
            webhook_secret=creds["webhook_secret"],
            rate_limit_rpm=60_000,
        ).save(BLOCKS, overwrite=True)
        StripeGateway(
            secret_key=sb.credentials["stripe"]["api_key"],
            webhook_secret=STRIPE_SECRET,
            base_url=sb.urls["stripe"],
        ).save(BLOCKS, overwrite=True)
        ThirdPartyWebhookSecrets().save(BLOCKS, overwrite=True)
        ReceiverAPI(bearer_token=TOKEN).save(BLOCKS, overwrite=True)
        products = sb.call(sb.woocommerce.ids, "product")[:50]
        orders = sb.call(sb.woocommerce.ids, "order")[:50]
        env = {
            **os.environ,
            "PREFECT_API_URL": prefect_url,
            "NXT_DATABASE_URL": hub_url,
            "NXT_RECEIVER_BLOCKS": BLOCKS,
            "NXT_RECEIVER_STORES": BLOCKS,
            "NXT_RECEIVER_INSTANCE": f"bench-{database}",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            # one metrics window over a round, so the receiver's own percentiles cover all of it
            "NXT_RECEIVER_METRICS_INTERVAL_S": "300",
        }
        # --dispatch process: the receiver's dispatcher runs in its child process (the default); loop: on
        # the receiver's own loop; separate: the receiver that takes the load runs --no-dispatch and a
        # second receiver (its own process) dispatches; off: nobody dispatches.
        ingest_only = ("--no-dispatch",) if args.dispatch in ("separate", "off") else ()
        if args.dispatch == "loop":
            env["NXT_RECEIVER_DISPATCH_PROCESS"] = "false"
        receiver = Receiver(env, free_port(), work / f"receiver-{database}.log", ingest_only)
        receiver.start()
        dispatcher = None
        if args.dispatch == "separate":
            dispatcher = Receiver(
                env | {"NXT_RECEIVER_INSTANCE": f"bench-{database}-dispatch"},
                free_port(),
                work / f"dispatcher-{database}.log",
            )
            dispatcher.start()
        try:
            n = int(args.rate * args.seconds)
            first = run_round(
                receiver,
                make_requests(n, BLOCKS, creds["webhook_secret"], products, orders),
                args.rate,
                args.connections,
                work,
                profile=work / f"profile-{database}.txt" if args.profile else None,
            )
            print(
                f"[{database}] {args.rate}/s for {args.seconds}s: p50 {first['p50_ms']} ms, "
                f"p99 {first['p99_ms']} ms, max {first['max_ms']} ms, errors {first['errors']} "
                f"(dispatch {args.dispatch}, load average {_load()}); load generator's send lag p99 "
                f"{first['send_lag_p99_ms']} ms; inside the receiver {first['server']}",
                flush=True,
            )
            acked = list(first["acked_keys"])
            if args.quick:
                if args.dispatch != "off":
                    wait_processed(engine, args.drain_timeout, database)
                stored, processed, lost = check(engine, acked)
                print(f"[{database}] acked {len(acked)}, stored once {stored}, processed once {processed}")
                return {
                    "rate": args.rate,
                    "seconds": args.seconds,
                    "p50_ms": first["p50_ms"],
                    "p99_ms": first["p99_ms"],
                    "errors": first["errors"],
                    "max_rate_p99_under_100ms": None,
                    "acked": len(acked),
                    "stored": stored,
                    "processed": processed,
                    "lost_after_kill": None,
                    "database": database,
                    "dispatch": args.dispatch,
                    "load_average": _load(),
                }
            best = args.rate if first["errors"] == 0 and first["p99_ms"] <= 100 else 0
            for rate in args.rates:
                if args.dispatch != "off":
                    wait_processed(
                        engine, args.drain_timeout, database
                    )  # each rate starts from an idle dispatcher
                r = run_round(
                    receiver,
                    make_requests(
                        int(rate * args.seconds), BLOCKS, creds["webhook_secret"], products, orders
                    ),
                    rate,
                    args.connections,
                    work,
                )
                acked += r["acked_keys"]
                held = r["errors"] == 0 and r["p99_ms"] <= 100
                print(
                    f"[{database}] {rate}/s: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
                    f"errors {r['errors']} -> {'held' if held else 'not held'}",
                    flush=True,
                )
                if not held:
                    break
                best = rate
            if args.dispatch != "off":
                wait_processed(engine, args.drain_timeout, database)
            stored, processed, _ = check(engine, acked)
            print(
                f"[{database}] acked {len(acked)}, stored once {stored}, processed once {processed}",
                flush=True,
            )
            kill_n = int(args.rate * args.kill_seconds)
            killed = run_round(
                receiver,
                make_requests(kill_n, BLOCKS, creds["webhook_secret"], products, orders),
                args.rate,
                args.connections,
                work,
                kill_after=args.kill_seconds / 2,
            )
            if args.dispatch != "off":
                wait_processed(engine, args.drain_timeout, database)
            k_stored, k_processed, lost = check(engine, killed["acked_keys"])
            print(
                f"[{database}] kill round: acked {killed['acked']}, refused/failed {killed['errors']}, "
                f"stored {k_stored}, processed once {k_processed}, lost {lost}",
                flush=True,
            )
            with engine.connect() as conn:
                runs = conn.execute(sa.text("SELECT count(*) FROM sync_runs")).scalar_one()
            print(f"[{database}] woocommerce-sync-records runs: {runs}", flush=True)
        finally:
            receiver.stop()
            if dispatcher is not None:
                dispatcher.stop()
    engine.dispose()
    return {
        "rate": args.rate,
        "seconds": args.seconds,
        "p50_ms": first["p50_ms"],
        "p99_ms": first["p99_ms"],
        "errors": first["errors"],
        "max_rate_p99_under_100ms": best,
        "acked": len(acked) + killed["acked"],
        "stored": stored + k_stored,
        "processed": processed + k_processed,
        "lost_after_kill": lost,
        "database": database,
        "dispatch": args.dispatch,
        "load_average": _load(),
    }


def _load() -> str:
    """The 1, 5 and 15 minute load averages (the machine is shared: figures depend on them)."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--loadgen", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--requests", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--rates", type=lambda s: [float(x) for x in s.split(",")], default=[600, 800, 1000, 1200, 1500, 2000]
    )
    parser.add_argument("--kill-seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--drain-timeout", type=float, default=900)
    parser.add_argument("--postgres", help="Also run on this PostgreSQL server (a fresh database is made).")
    parser.add_argument("--only-postgres", action="store_true", help="Skip the SQLite run.")
    parser.add_argument(
        "--dispatch",
        choices=("process", "loop", "separate", "off"),
        default="process",
        help="The receiver's dispatcher in its child process (process, the default), on the receiver's "
        "own loop (loop), in a second receiver (separate), or none (off: the acknowledgement path "
        "alone; nothing is processed).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="Only the first round (no rising rates, no kill)."
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the receiver during the first round (profile-*.txt)."
    )
    args = parser.parse_args()
    if args.loadgen:
        run_loadgen(args)
        return
    work = Path(tempfile.mkdtemp(prefix="nxt-receiver-bench-"))
    prefect, prefect_url = start_prefect(work)
    os.environ["PREFECT_API_URL"] = prefect_url  # before anything imports Prefect
    lines = []
    try:
        if not args.only_postgres:
            lines.append(bench("sqlite", f"sqlite:///{work / 'hub.db'}", args, prefect_url, work))
        if args.postgres:
            import sqlalchemy as sa

            name = f"nxt_bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = sa.make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
            try:
                lines.append(bench("postgresql", url, args, prefect_url, work))
            finally:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        prefect.terminate()
        prefect.wait(timeout=30)
    print(f"logs in {work}", flush=True)
    for line in lines:
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
