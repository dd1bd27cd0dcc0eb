"""Benchmark of the WooCommerce sync. Prints its figures, then one JSON line.

    uv run python bench/woocommerce_sync.py            # the store of issue 7 (see below)
    uv run python bench/woocommerce_sync.py --quick    # a small store, to check the script itself

The store, as issue 7 measured it: TLS, 50 ms per request, 5,000 products of which 981 are variable,
5,000 customers, 10,000 orders; the sync with 8 requests in flight and 50 records a page. The sandbox serves
it from its own process (`nxt sandbox up --tls ...`), so the store's CPU is not the sync's.

1. floor: after one untimed read that warms the sandbox's render cache (so every timed run sees the same
   server), a bare httpx client (same TLS, same OAuth-less Basic auth) fetches and JSON-decodes every page the
   sync reads (products, trashed products, each variable product's variations, customers, orders, trashed
   orders) with the same concurrency, storing nothing.
2. sequential: the same pages, one request at a time.
3. full pull: the `woocommerce-sync` flow into a fresh SQLite hub, on a Prefect test server; median of 2.
4. Prefect overhead: the same full pull as plain asyncio (`run_sync(use_prefect=False)`: the tasks' `.fn`,
   no task runs, artifacts or shared rate limit) into another fresh hub; (flow - plain) / flow.
5. incremental: 100 products and 100 orders are touched; requests (the sandbox's own counters) and time.
6. kill and resume: a `nxt sync woocommerce --type products` process is SIGKILLed once the store has served
   50 product pages; a second run finishes the job. `resume_refetched_pages` = product pages the two runs
   read beyond what one clean run reads (what the kill cost).
7. fixed cost of a command: `nxt sync woocommerce` on an up-to-date store, process wall time minus the sync's
   own duration, with a Prefect server already running (`cli_fixed_s_server`) and with none configured (a
   temporary server started by the command, `cli_fixed_s_temporary`).
8. memory: in a fresh process, the flow pulls a 100,000-product store (no latency); peak RSS printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import signal
import ssl
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
PER_PAGE = 50
LATENCY_MS = 50
VARIABLE_SHARE = 981 / 5000
RPM = 1_000_000  # the store's limit is not what is measured here (the sandbox applies none)


def start_sandbox(
    products: int, customers: int, orders: int, latency_ms: float, *, tls: bool = True
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    cmd = [sys.executable, "-m", "deployments.cli", "sandbox", "up", "--json", "--services", "woocommerce"]
    cmd += [
        "--seed",
        "1",
        "--products",
        str(products),
        "--customers",
        str(customers),
        "--orders",
        str(orders),
    ]
    cmd += ["--latency-ms", str(latency_ms), "--variable-share", str(VARIABLE_SHARE)]
    if tls:
        cmd.append("--tls")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("the sandbox did not start")
    return proc, json.loads(line)["woocommerce"]


def make_block(info: dict[str, Any]) -> Any:
    from blocks import WooCommerceStore

    return WooCommerceStore(
        site_url=info["base_url"],
        consumer_key=info["consumer_key"],
        consumer_secret=info["consumer_secret"],
        ca_bundle=info.get("ca_file"),
        batch_size=PER_PAGE,
        max_concurrency=CONCURRENCY,
        rate_limit_rpm=RPM,
        retry_delay_ms=200,
    )


def _verify(info: dict[str, Any]) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=info["ca_file"]) if info.get("ca_file") else True


def admin(info: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    r = httpx.request(method, info["admin_url"] + path, json=body, timeout=60, verify=_verify(info))
    r.raise_for_status()
    return r.json()


def _http(info: dict[str, Any], concurrency: int) -> httpx.AsyncClient:
    verify: ssl.SSLContext | bool = True
    auth: httpx.Auth
    if info.get("ca_file"):
        verify = ssl.create_default_context(cafile=info["ca_file"])
        auth = httpx.BasicAuth(info["consumer_key"], info["consumer_secret"])
    else:
        from clients.woocommerce._auth import build_auth

        auth = build_auth("http", info["consumer_key"], info["consumer_secret"])[0]
    return httpx.AsyncClient(
        auth=auth, verify=verify, timeout=60, limits=httpx.Limits(max_connections=concurrency)
    )


async def bare_read(info: dict[str, Any], concurrency: int) -> tuple[float, int]:
    """Fetch and decode every page the sync reads, storing nothing. Returns (seconds, requests)."""
    api = info["base_url"] + "/wp-json/wc/v3/"
    gate = asyncio.Semaphore(concurrency)
    requests = 0
    started = time.perf_counter()
    async with _http(info, concurrency) as http:

        async def get(path: str, params: dict[str, Any], per_page: int) -> tuple[list[Any], int]:
            nonlocal requests
            async with gate:
                r = await http.get(api + path, params={**params, "per_page": per_page})
                requests += 1
                r.raise_for_status()
                return r.json(), int(r.headers["X-WP-TotalPages"])

        async def every(path: str, params: dict[str, Any], per_page: int = PER_PAGE) -> list[Any]:
            first, pages = await get(path, {**params, "page": 1}, per_page)
            rest = await asyncio.gather(
                *(get(path, {**params, "page": p}, per_page) for p in range(2, pages + 1))
            )
            return first + [o for items, _ in rest for o in items]

        by_modified = {"orderby": "modified", "order": "asc", "dates_are_gmt": "true"}

        async def products(params: dict[str, Any]) -> None:
            items = await every("products", params)
            await asyncio.gather(
                *(every(f"products/{p['id']}/variations", {}, 100) for p in items if p["type"] == "variable")
            )

        await asyncio.gather(
            products(by_modified),
            products({**by_modified, "status": "trash"}),
            every("customers", {"orderby": "id", "order": "asc"}),
            every("orders", by_modified),
            every("orders", {**by_modified, "status": "trash"}),
        )
    return time.perf_counter() - started, requests


def fresh_hub(tmp: Path) -> str:
    return f"sqlite:///{tmp / f'hub-{uuid.uuid4().hex[:8]}.db'}"


async def flow_pull(block_name: str, hub_url: str, **kw: Any) -> tuple[float, dict[str, Any]]:
    from flows.woocommerce_sync import woocommerce_sync

    os.environ["NXT_DATABASE_URL"] = hub_url
    started = time.perf_counter()
    summary = await woocommerce_sync(store=block_name, **kw)
    return time.perf_counter() - started, summary


async def plain_pull(block: Any, hub_url: str, **kw: Any) -> tuple[float, dict[str, Any]]:
    from flows.woocommerce_sync import run_sync
    from hub.db import create_hub_engine

    engine = create_hub_engine(hub_url)
    # Outside a run, `nxt` INFO lines would go to the console once a flow run has lowered the logger's
    # level (to send them to its run's logs): keep every plain pull as quiet as the first.
    nxt_logger = logging.getLogger("nxt")
    level = nxt_logger.level
    nxt_logger.setLevel(logging.WARNING)
    try:
        started = time.perf_counter()
        summary = await run_sync(block, engine, store="bench", use_prefect=False, **kw)
        return time.perf_counter() - started, summary
    finally:
        nxt_logger.setLevel(level)


def product_pages(info: dict[str, Any]) -> int:
    """Product listing pages the store served since its counters were reset (id listings left out)."""
    recent = admin(info, "GET", "/stats?recent=1")["recent"]
    return sum(
        1
        for r in recent
        if r["path"] == "/wp-json/wc/v3/products"
        and "_fields" not in r["query"]
        and "status=trash" not in r["query"]
    )


def nxt(env: dict[str, str], *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "deployments.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return time.perf_counter() - started, done


def kill_and_resume(info: dict[str, Any], api_url: str, tmp: Path) -> dict[str, int]:
    """Kill a products sync once 50 product pages were served; resume; count what the kill cost."""
    from hub.db import create_hub_engine
    from hub.models import SyncLock

    hub_url = fresh_hub(tmp)
    env = {**os.environ, "PREFECT_API_URL": api_url, "NXT_DATABASE_URL": hub_url}
    admin(info, "DELETE", "/stats")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deployments.cli",
            "sync",
            "woocommerce",
            "--type",
            "products",
            "--store",
            "bench",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while product_pages(info) < 50 and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = product_pages(info)
    # A killed run's lease frees the store when it expires (2 minutes); the benchmark does not wait for it.
    engine = create_hub_engine(hub_url)
    with engine.begin() as conn:
        conn.execute(SyncLock.__table__.delete())
    admin(info, "DELETE", "/stats")
    _, done = nxt(env, "sync", "woocommerce", "--type", "products", "--store", "bench", "--json")
    if done.returncode != 0:
        raise SystemExit(f"resumed run failed: {done.stderr[-2000:]}")
    second = product_pages(info)
    return {"first_run_product_pages": first, "second_run_product_pages": second}


def cli_fixed_cost(info: dict[str, Any], api_url: str, tmp: Path) -> dict[str, float]:
    """Wall time of `nxt sync woocommerce` minus the sync's own duration, with and without a server."""
    hub_url = fresh_hub(tmp)
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    base.update(NXT_DATABASE_URL=hub_url, PREFECT_SERVER_ANALYTICS_ENABLED="false")
    with_server = {**base, "PREFECT_API_URL": api_url}
    args = ("sync", "woocommerce", "--type", "customers", "--store", "bench", "--json")
    nxt(with_server, *args)  # the first pull; then measure runs with little to do
    out: dict[str, float] = {}
    wall, done = nxt(with_server, *args)
    out["cli_fixed_s_server"] = round(wall - json.loads(done.stdout)["duration_ms"] / 1000, 2)
    home = tmp / "fresh-prefect-home"
    temporary = {**base, "PREFECT_HOME": str(home)}
    env_file = tmp / "bench.env"
    env_file.write_text(
        f"WOOCOMMERCE_SITE_URL={info['base_url']}\nWOOCOMMERCE_CONSUMER_KEY={info['consumer_key']}\n"
        f"WOOCOMMERCE_CONSUMER_SECRET={info['consumer_secret']}\n"
    )
    nxt(
        temporary, "blocks", "from-env", "--env-file", str(env_file), "--name", "bench"
    )  # creates its database
    if info.get("ca_file"):
        temporary["SSL_CERT_FILE"] = info["ca_file"]
    wall, done = nxt(temporary, *args)
    if done.returncode != 0:
        raise SystemExit(f"sync with a temporary server failed: {done.stderr[-2000:]}")
    out["cli_fixed_s_temporary"] = round(wall - json.loads(done.stdout)["duration_ms"] / 1000, 2)
    return out


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

    proc, info = start_sandbox(products, 0, 0, 0, tls=False)
    try:
        with tempfile.TemporaryDirectory() as tmp, prefect_test_harness(server_startup_timeout=120):
            with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                make_block(info).model_copy(update={"batch_size": 100}).save("bench-memory", overwrite=True)
                seconds, summary = asyncio.run(
                    flow_pull("bench-memory", f"sqlite:///{Path(tmp) / 'hub.db'}", sync_type="products")
                )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"memory run: {summary['counts']['fetched']} records in {seconds:.1f}s")
        print(f"PEAK_RSS_MB {peak:.1f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def touch_records(info: dict[str, Any], each: int) -> int:
    """Bump `date_modified` of `each` products and `each` orders (spread over the store) via the admin API."""
    touched = 0
    for kind in ("products", "orders"):
        r = httpx.get(
            f"{info['base_url']}/wp-json/wc/v3/{kind}",
            params={"per_page": 100, "orderby": "id", "order": "asc", "_fields": "id", "page": 3},
            auth=(info["consumer_key"], info["consumer_secret"]),
            verify=_verify(info),
            timeout=60,
        )
        r.raise_for_status()
        ids = [o["id"] for o in r.json()][:each]
        touched += len(admin(info, "POST", f"/woocommerce/{kind}/touch", {"ids": ids})["touched"])
    return touched


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small store, to check the script")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    sizes = (300, 300, 600) if args.quick else (5000, 5000, 10000)
    memory_products = 5_000 if args.quick else 100_000

    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    proc, info = start_sandbox(*sizes, latency_ms=LATENCY_MS)
    figures: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp_name, prefect_test_harness(server_startup_timeout=120):
            tmp = Path(tmp_name)
            api_url = str(PREFECT_API_URL.value())
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
                flow_summary: dict[str, Any] = {}
                flow_url = ""
                for _ in range(2):
                    plain_s, _ = asyncio.run(plain_pull(block, fresh_hub(tmp)))
                    plain_times.append(plain_s)
                    flow_url = fresh_hub(tmp)
                    admin(info, "DELETE", "/stats")
                    flow_s, flow_summary = asyncio.run(flow_pull("bench", flow_url))
                    flow_times.append(flow_s)
                    print(f"full pull: flow {flow_s:.2f}s, same work without Prefect {plain_s:.2f}s")
                full_pull_s = statistics.median(flow_times)
                plain_s = statistics.median(plain_times)
                full_requests = admin(info, "GET", "/stats")["total"]
                records = flow_summary["counts"]["fetched"]
                overhead = 100 * (full_pull_s - plain_s) / full_pull_s

                touched = touch_records(info, 100)
                admin(info, "DELETE", "/stats")
                inc_s, inc_summary = asyncio.run(flow_pull("bench", flow_url))
                inc_requests = admin(info, "GET", "/stats")["total"]
                print(
                    f"incremental after {touched} changes: {inc_requests} requests, {inc_s:.2f}s, "
                    f"updated {inc_summary['counts']['updated']}"
                )

                clean_pages = -(-sizes[0] // PER_PAGE)
                resume = kill_and_resume(info, api_url, tmp)
                refetched = (
                    resume["first_run_product_pages"] + resume["second_run_product_pages"] - clean_pages
                )
                first, second = resume["first_run_product_pages"], resume["second_run_product_pages"]
                print(
                    f"kill and resume: killed after {first} product pages, the resumed run read {second}: "
                    f"{refetched} beyond a clean run's {clean_pages} (batches of {2 * CONCURRENCY} pages)"
                )
                fixed = cli_fixed_cost(info, api_url, tmp)
                print(
                    f"fixed cost of `nxt sync`: {fixed['cli_fixed_s_server']}s with a Prefect server "
                    f"running, {fixed['cli_fixed_s_temporary']}s with a temporary one"
                )
        figures = {
            "records": records,
            "requests": full_requests,
            "full_pull_s": round(full_pull_s, 2),
            "floor_s": round(floor_s, 2),
            "floor_requests": floor_requests,
            "sequential_s": round(sequential_s, 2),
            "full_vs_floor": round(full_pull_s / floor_s, 2),
            "sequential_vs_full": round(sequential_s / full_pull_s, 2),
            "incremental_changed": touched,
            "incremental_requests": inc_requests,
            "incremental_s": round(inc_s, 2),
            "prefect_overhead_pct": round(overhead, 1),
            "resume_refetched_pages": refetched,
            **fixed,
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


if __name__ == "__main__":
    main()
