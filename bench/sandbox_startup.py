"""How long a 20,000-record sandbox store takes to start, and what it costs in memory.

    uv run python bench/sandbox_startup.py [--products 5000 --customers 5000 --orders 10000]
                                           [--services woocommerce,twilio,sendgrid]

Prints the world build time (and, within it, the gateway ledger's: charges, refunds, disputes, payouts,
batches and planted discrepancies generated from the orders), the time until the server answers, RSS after
start-up, the time to read every product page once (rendering + cache fill) and RSS after that, then one
JSON line of the figures. Target: start-up under 5 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from typing import Any

import httpx

from sandbox.history import build_history
from sandbox.server import start_sandbox
from sandbox.testing import OAuth1
from sandbox.world import DEFAULT_END, build_world


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pull(sb: Any) -> tuple[float, int]:
    """Read every product, customer and order page (per_page=100, 8 requests at once) over HTTP."""

    async def run() -> int:
        sem = asyncio.Semaphore(8)
        creds = sb.credentials["woocommerce"]
        auth = OAuth1(creds["consumer_key"], creds["consumer_secret"])
        base = sb.urls["woocommerce"] + "/wp-json/wc/v3"
        async with httpx.AsyncClient(base_url=base, auth=auth, timeout=60) as client:

            async def get(path: str, page: int) -> httpx.Response:
                async with sem:
                    r = await client.get(path, params={"per_page": 100, "page": page})
                    r.raise_for_status()
                    r.json()
                    return r

            n = 0
            for path in ("/products", "/customers", "/orders"):
                first = await get(path, 1)
                total = int(first.headers["X-WP-TotalPages"])
                await asyncio.gather(*(get(path, p) for p in range(2, total + 1)))
                n += total
            return n

    t = time.perf_counter()
    pages = asyncio.run(run())
    return time.perf_counter() - t, pages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=5000)
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--orders", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--discrepancy-rate", type=float, default=0.03)
    ap.add_argument("--services", default="woocommerce", help="comma-separated; woocommerce is always served")
    args = ap.parse_args()
    services = ["woocommerce"] + [s for s in args.services.split(",") if s and s != "woocommerce"]
    records = args.products + args.customers + args.orders
    sizes = {"seed": args.seed, "products": args.products, "customers": args.customers, "orders": args.orders}
    rss0 = _rss_mb()

    # The ledger alone, on a world of its own (build_history mutates the world it plants into).
    spare = build_world(**sizes, end=DEFAULT_END, discrepancy_rate=0)
    t = time.perf_counter()
    ledger = build_history(spare, discrepancy_rate=args.discrepancy_rate)
    ledger_s = time.perf_counter() - t
    gateways = ("stripe", "paypal", "square", "authorizenet")
    n_charges = sum(len(ledger.charges(g)) for g in gateways)
    n_refunds = sum(len(ledger.refunds(g)) for g in gateways)
    n_payouts = sum(len(ledger.payouts(g)) for g in ("stripe", "square"))
    n_batches, n_planted = len(ledger.batches()), len(ledger.planted)
    del spare, ledger

    t0 = time.perf_counter()
    world = build_world(**sizes, end=DEFAULT_END, discrepancy_rate=args.discrepancy_rate)
    build_s = time.perf_counter() - t0
    sb = start_sandbox(world=world, services=services)
    try:
        base = sb.urls["woocommerce"]
        httpx.get(base + "/wp-json/wc/v3").raise_for_status()  # answers: it is up
        startup_s = time.perf_counter() - t0
        rss_started = _rss_mb()
        # Render (and cache) every product once on the server's loop: the cost the first full pull pays.
        svc = sb.woocommerce
        t1 = time.perf_counter()
        total_bytes = sb.call(
            lambda: sum(len(svc.record_bytes("product", pid) or b"") for pid in svc.ids("product"))
        )
        render_s = time.perf_counter() - t1
        rss_rendered = _rss_mb()
        pull_cold, pull_warm, pages = _pull(sb), _pull(sb), 0
        pages = pull_cold[1]
        avg_kb = total_bytes / max(1, len(world.products)) / 1024
    finally:
        sb.stop()

    print(
        f"records            {records:,} ({args.products:,} products + {len(world.variations):,} "
        f"variations, {args.customers:,} customers, {args.orders:,} orders)"
    )
    print(f"world build        {build_s:.2f} s (ledger and contacts included)")
    print(
        f"ledger build       {ledger_s:.2f} s ({n_charges:,} charges, {n_refunds:,} refunds, {n_payouts:,} "
        f"payouts, {n_batches:,} batches, {n_planted} planted)"
    )
    print(f"start-up (serving) {startup_s:.2f} s   target < 5 s ({', '.join(services)})")
    print(f"RSS after start    {rss_started:.0f} MB (process baseline {rss0:.0f} MB)")
    print(f"render all products {render_s:.2f} s, avg product JSON {avg_kb:.2f} KB")
    print(f"RSS after render   {rss_rendered:.0f} MB")
    print(
        f"full read, {pages} pages of 100, 8 at once, no latency: first {pull_cold[0]:.2f} s "
        f"(orders/customers rendered on the way), again {pull_warm[0]:.2f} s (cached bytes)"
    )
    print(
        json.dumps(
            {
                "records": records,
                "build_s": round(build_s, 3),
                "ledger_s": round(ledger_s, 3),
                "charges": n_charges,
                "planted": n_planted,
                "startup_s": round(startup_s, 3),
                "services": services,
                "rss_mb": round(rss_started, 1),
                "render_products_s": round(render_s, 3),
                "avg_product_kb": round(avg_kb, 2),
                "rss_after_render_mb": round(rss_rendered, 1),
                "pull_pages": pages,
                "pull_first_s": round(pull_cold[0], 3),
                "pull_again_s": round(pull_warm[0], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
