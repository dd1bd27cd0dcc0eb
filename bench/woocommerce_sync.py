"""Benchmark of the WooCommerce sync (issue 4). Prints its figures, then one JSON line.

    uv run python bench/woocommerce_sync.py            # 5,000 products + 5,000 customers + 10,000 orders
    uv run python bench/woocommerce_sync.py --quick    # a small store, to check the script itself

What it does, all on this machine:
1. Starts the sandbox store in its own process (`nxt sandbox up --json`) with 50 ms latency per request.
2. floor: after one untimed read that warms the sandbox's render cache (so every timed run sees the same
   server), a bare httpx client (same OAuth signing) fetches and JSON-decodes every page the sync reads
   (products, each variable product's variations, customers, orders, trashed orders) with the same
   concurrency as the sync, storing nothing.
3. sequential: the same pages, one request at a time.
4. full pull: the `woocommerce-sync` flow into a fresh SQLite hub, on a Prefect test server.
5. Prefect overhead: the same full pull run as plain asyncio (`run_sync(use_prefect=False)`, same code,
   no flow/task runs, artifacts or shared rate limit) into another fresh hub; overhead = (flow - plain) /
   flow. Both are run twice, alternating, and the medians compared.
6. incremental: 100 products and 100 orders are touched in the store; the flow runs again; requests
   (from the sandbox's own counters) and wall time are reported, with the changed + customer pages.
7. memory: in a fresh process, the flow pulls a 100,000-product store (no latency); peak RSS printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONCURRENCY = 8
PER_PAGE = 100
RPM = 1_000_000  # the store's limit is not what is measured here (the sandbox applies none)


def start_sandbox(
    products: int, customers: int, orders: int, latency_ms: float
) -> tuple[subprocess.Popen, dict]:
    cmd = [
        sys.executable,
        "-m",
        "deployments.cli",
        "sandbox",
        "up",
        "--json",
        "--seed",
        "1",
        "--products",
        str(products),
        "--customers",
        str(customers),
        "--orders",
        str(orders),
        "--latency-ms",
        str(latency_ms),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("the sandbox did not start")
    return proc, json.loads(line)["woocommerce"]


def make_block(info: dict) -> Any:
    from blocks import WooCommerceStore

    return WooCommerceStore(
        site_url=info["base_url"],
        consumer_key=info["consumer_key"],
        consumer_secret=info["consumer_secret"],
        batch_size=PER_PAGE,
        max_concurrency=CONCURRENCY,
        rate_limit_rpm=RPM,
        retry_delay_ms=200,
    )


def admin(info: dict, method: str, path: str, body: Any = None) -> Any:
    r = httpx.request(method, info["admin_url"] + path, json=body, timeout=60)
    r.raise_for_status()
    return r.json()


async def bare_read(info: dict, concurrency: int) -> tuple[float, int]:
    """Fetch and decode every page the sync reads, storing nothing. Returns (seconds, requests)."""
    from clients.woocommerce._auth import build_auth

    auth, _ = build_auth("http", info["consumer_key"], info["consumer_secret"])
    api = info["base_url"] + "/wp-json/wc/v3/"
    gate = asyncio.Semaphore(concurrency)
    requests = 0
    started = time.perf_counter()
    async with httpx.AsyncClient(
        auth=auth, timeout=60, limits=httpx.Limits(max_connections=concurrency)
    ) as http:

        async def get(path: str, params: dict) -> tuple[list, int]:
            nonlocal requests
            async with gate:
                r = await http.get(api + path, params={**params, "per_page": PER_PAGE})
                requests += 1
                r.raise_for_status()
                return r.json(), int(r.headers["X-WP-TotalPages"])

        async def every(path: str, params: dict) -> list:
            first, pages = await get(path, {**params, "page": 1})
            rest = await asyncio.gather(*(get(path, {**params, "page": p}) for p in range(2, pages + 1)))
            return first + [o for items, _ in rest for o in items]

        by_modified = {"orderby": "modified", "order": "asc", "dates_are_gmt": "true"}

        async def products() -> None:
            items = await every("products", by_modified)
            await asyncio.gather(
                *(every(f"products/{p['id']}/variations", {}) for p in items if p["type"] == "variable")
            )

        await asyncio.gather(
            products(),
            every("customers", {"orderby": "id", "order": "asc"}),
            every("orders", by_modified),
            every("orders", {**by_modified, "status": "trash"}),
        )
    return time.perf_counter() - started, requests


def fresh_hub(tmp: Path) -> Any:
    from hub.db import create_hub_engine

    return create_hub_engine(f"sqlite:///{tmp / f'hub-{uuid.uuid4().hex[:8]}.db'}")


async def flow_pull(block_name: str, engine_url: str, **kw: Any) -> tuple[float, dict]:
    from flows.woocommerce_sync import woocommerce_sync

    os.environ["NXT_DATABASE_URL"] = engine_url
    started = time.perf_counter()
    summary = await woocommerce_sync(store=block_name, **kw)
    return time.perf_counter() - started, summary


async def plain_pull(block: Any, engine: Any, **kw: Any) -> tuple[float, dict]:
    from flows.woocommerce_sync import run_sync

    started = time.perf_counter()
    summary = await run_sync(block, engine, store="bench", use_prefect=False, **kw)
    return time.perf_counter() - started, summary


def memory_run(products: int) -> float:
    """Run `--memory-child` in a fresh process; return its peak RSS in MB."""
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(products)], cwd=ROOT, capture_output=True, text=True
    )
    for line in out.stdout.splitlines():
        if line.startswith("PEAK_RSS_MB "):
            return float(line.split()[1])
    raise SystemExit(f"memory run failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")


def memory_child(products: int) -> None:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    proc, info = start_sandbox(products, 0, 0, 0)
    try:
        with tempfile.TemporaryDirectory() as tmp, prefect_test_harness(server_startup_timeout=120):
            with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                make_block(info).save("bench-memory", overwrite=True)
                seconds, summary = asyncio.run(
                    flow_pull("bench-memory", f"sqlite:///{Path(tmp) / 'hub.db'}", sync_type="products")
                )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"memory run: {summary['counts']['fetched']} records in {seconds:.1f}s")
        print(f"PEAK_RSS_MB {peak:.1f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small store, to check the script")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    sizes = (200, 200, 400) if args.quick else (5000, 5000, 10000)
    memory_products = 5_000 if args.quick else 100_000

    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    proc, info = start_sandbox(*sizes, latency_ms=50)
    figures: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp_name, prefect_test_harness(server_startup_timeout=120):
            tmp = Path(tmp_name)
            with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                block = make_block(info)
                block.save("bench", overwrite=True)

                asyncio.run(bare_read(info, CONCURRENCY))  # warm the sandbox's page cache for every run alike
                floor_s, floor_requests = asyncio.run(bare_read(info, CONCURRENCY))
                print(
                    f"floor (bare httpx, {CONCURRENCY} at once): {floor_requests} requests in {floor_s:.2f}s"
                )
                sequential_s, _ = asyncio.run(bare_read(info, 1))
                print(f"sequential (one request at a time): {sequential_s:.2f}s")

                flow_times, plain_times = [], []
                flow_summary: dict = {}
                flow_url = ""
                for _ in range(2):
                    engine = fresh_hub(tmp)
                    plain_s, _ = asyncio.run(plain_pull(block, engine))
                    plain_times.append(plain_s)
                    flow_url = f"sqlite:///{tmp / f'flow-{uuid.uuid4().hex[:8]}.db'}"
                    admin(info, "DELETE", "/stats")
                    flow_s, flow_summary = asyncio.run(flow_pull("bench", flow_url))
                    flow_times.append(flow_s)
                    print(f"full pull: flow {flow_s:.2f}s, same work without Prefect {plain_s:.2f}s")
                full_pull_s = statistics.median(flow_times)
                plain_s = statistics.median(plain_times)
                records = flow_summary["counts"]["fetched"]
                overhead = 100 * (full_pull_s - plain_s) / full_pull_s

                touched = touch_records(info, 100)
                admin(info, "DELETE", "/stats")
                inc_s, inc_summary = asyncio.run(flow_pull("bench", flow_url))
                stats = admin(info, "GET", "/stats")
                inc_requests = stats["total"]
                customer_pages = math.ceil(sizes[1] / PER_PAGE)
                changed_pages = math.ceil(touched / 2 / PER_PAGE) * 2
                print(
                    f"incremental after {touched} changes: {inc_requests} requests (changed pages "
                    f"~{changed_pages} + customer pages {customer_pages} + trashed-orders page + checks + "
                    f"variations of changed variable products), {inc_s:.2f}s, "
                    f"updated {inc_summary['counts']['updated']}"
                )
        figures = {
            "records": records,
            "full_pull_s": round(full_pull_s, 2),
            "floor_s": round(floor_s, 2),
            "sequential_s": round(sequential_s, 2),
            "full_vs_floor": round(full_pull_s / floor_s, 2),
            "sequential_vs_full": round(sequential_s / full_pull_s, 2),
            "incremental_changed": touched,
            "incremental_requests": inc_requests,
            "incremental_s": round(inc_s, 2),
            "prefect_overhead_pct": round(overhead, 1),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if not args.skip_memory:
        figures["peak_rss_mb_100k"] = round(memory_run(memory_products), 1)
        figures["memory_products"] = memory_products
    print(
        f"full pull {figures['full_pull_s']}s = {figures['full_vs_floor']}x the floor; sequential is "
        f"{figures['sequential_vs_full']}x slower; Prefect overhead {figures['prefect_overhead_pct']}%"
    )
    print(json.dumps(figures))


def touch_records(info: dict, each: int) -> int:
    """Bump `date_modified` of `each` products and `each` orders (spread over the store) via the admin API."""
    from clients.woocommerce._auth import build_auth

    auth, _ = build_auth("http", info["consumer_key"], info["consumer_secret"])
    touched = 0
    for kind in ("products", "orders"):
        r = httpx.get(
            f"{info['base_url']}/wp-json/wc/v3/{kind}",
            params={"per_page": 100, "orderby": "id", "order": "asc", "_fields": "id", "page": 3},
            auth=auth,
            timeout=60,
        )
        r.raise_for_status()
        ids = [o["id"] for o in r.json()][:each]
        touched += len(admin(info, "POST", f"/woocommerce/{kind}/touch", {"ids": ids})["touched"])
    return touched


if __name__ == "__main__":
    main()
