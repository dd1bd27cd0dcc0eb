"""Screenshots of the Prefect UI with NXT's runs, for docs/prefect-ui.md. Anyone can rerun it:

    sudo apt-get install -y chromium        # headless Chromium (Debian/Ubuntu package `chromium`)
    uv run python scripts/screenshots.py    # writes docs/images/*.png

It starts its own Prefect server (a throwaway PREFECT_HOME, a free port) and the sandbox, saves the blocks,
runs `nxt demo` against it (sync, push, webhooks, ledger ingestion, reconciliation, dispatch), then points
headless Chromium at the UI pages. No browser driver or Node package is needed: Chromium's own
`--screenshot` mode, with `--virtual-time-budget` giving the single-page app time to load its data.
Everything it started is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

WIDTH, HEIGHT = 1440, 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("error: no Chromium found; install it (`sudo apt-get install -y chromium`) and run again")


def shoot(browser: str, url: str, out: Path, *, wait_ms: int = 12000, height: int = HEIGHT) -> None:
    """One screenshot of `url` into `out` with headless Chromium."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                browser,
                "--headless=new",
                "--no-sandbox",  # root in containers
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                f"--user-data-dir={profile}",
                f"--window-size={WIDTH},{height}",
                f"--virtual-time-budget={wait_ms}",
                f"--screenshot={out}",
                url,
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    print(f"wrote {out.relative_to(ROOT)}  <- {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--keep", action="store_true", help="Leave the server running (prints its URL).")
    args = parser.parse_args()
    browser = _chromium()
    args.out.mkdir(parents=True, exist_ok=True)

    work = Path(tempfile.mkdtemp(prefix="nxt-screens-"))
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    ui_url = f"http://127.0.0.1:{port}"
    # Before Prefect is imported: this process's runs go to the server started below.
    os.environ.update(
        PREFECT_API_URL=api_url,
        PREFECT_HOME=str(work / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL="WARNING",
        NXT_DATABASE_URL=f"sqlite:///{work / 'hub.db'}",
    )
    from deployments.processes import Child, stop_all

    server = Child(
        "prefect server",
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        {**os.environ, "PREFECT_API_URL": "", "PREFECT_UI_API_URL": api_url},  # where the UI's browser calls
        work / "server.log",
    )
    try:
        server.start()
        import httpx

        def healthy() -> bool:
            try:
                return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        print(f"starting a Prefect server on {ui_url} ...")
        server.wait_until(healthy, 180, "answering")
        ids = run_flows()
        shoot(browser, f"{ui_url}/runs", args.out / "flow-runs.png", wait_ms=30000)
        shoot(
            browser,
            f"{ui_url}/runs/flow-run/{ids['sync']}",
            args.out / "sync-run.png",
        )
        shoot(browser, f"{ui_url}/artifacts/artifact/{ids['sync_summary']}", args.out / "sync-summary.png")
        shoot(
            browser,
            f"{ui_url}/artifacts/artifact/{ids['report']}",
            args.out / "reconciliation-report.png",
            height=1400,
        )
        if args.keep:
            print(f"the server stays up at {ui_url}; Ctrl-C to stop")
            while True:
                time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop_all([server])
        shutil.rmtree(work, ignore_errors=True)


def run_flows() -> dict[str, str]:
    """`nxt demo` against this server (sync, push, webhooks, ledger, reconciliation, dispatch); the flow run
    and artifact ids to show."""
    from deployments.demo import run_demo

    print("running the demo against the server ...")
    hub_url = os.environ["NXT_DATABASE_URL"]
    results = run_demo(
        products=120,
        customers=60,
        orders=240,
        hub_url=hub_url,
        echo=print,
        api=lambda: os.environ["PREFECT_API_URL"],
    )
    failed = [r.step for r in results if not r.ok]
    if failed:
        raise SystemExit(f"the demo's {', '.join(failed)} step(s) failed")
    sync_id = _run_named("woocommerce-sync/demo/full")
    return {"sync": sync_id, "sync_summary": _run_artifact(sync_id), "report": _report_artifact()}


def _run_artifact(flow_run_id: str) -> str:
    """The summary table artifact of a flow run."""
    import httpx

    api = os.environ["PREFECT_API_URL"]
    found = httpx.post(
        f"{api}/artifacts/filter",
        json={
            "artifacts": {"flow_run_id": {"any_": [flow_run_id]}, "type": {"any_": ["table"]}},
            "limit": 10,
        },
        timeout=10,
    ).json()
    if not found:
        raise SystemExit(f"no table artifact on flow run {flow_run_id}")
    return str(found[0]["id"])


def _run_named(run_name: str) -> str:
    """The latest flow run called `run_name`."""
    import httpx

    api = os.environ["PREFECT_API_URL"]
    runs = httpx.post(
        f"{api}/flow_runs/filter",
        json={"flow_runs": {"name": {"any_": [run_name]}}, "sort": "START_TIME_DESC", "limit": 1},
        timeout=10,
    ).json()
    if not runs:
        raise SystemExit(f"no flow run named {run_name}")
    return str(runs[0]["id"])


def _report_artifact() -> str:
    import httpx

    api = os.environ["PREFECT_API_URL"]
    found: list[dict[str, Any]] = httpx.post(
        f"{api}/artifacts/filter", json={"sort": "CREATED_DESC", "limit": 50}, timeout=10
    ).json()
    for artifact in found:
        if (artifact.get("key") or "").startswith("reconcile-payments") and artifact["type"] == "markdown":
            return str(artifact["id"])
    for artifact in found:
        if (artifact.get("key") or "").startswith("reconcile-payments"):
            return str(artifact["id"])
    raise SystemExit(f"no reconciliation artifact among {json.dumps([a.get('key') for a in found])}")


if __name__ == "__main__":
    main()
