"""`nxt sandbox`: run the local stand-ins of every external service, speaking their real protocols."""

from __future__ import annotations

import json
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from deployments.errors import NxtTyper, fail

app = NxtTyper(
    help="Local stand-ins for the external services, speaking their real protocols.",
    no_args_is_help=True,
)


@app.callback()
def _group() -> None:
    """Local stand-ins for the external services, speaking their real protocols."""


def _save_blocks(sb: Any, block_name: str) -> list[str]:
    """Save a block per running service, pointing at the sandbox. Imported lazily: needs Prefect."""
    from deployments.sandbox_blocks import blocks_for

    saved = []
    for service, block in blocks_for(sb).items():
        block.save(block_name, overwrite=True)
        saved.append(f"{service}: {type(block).__name__}/{block_name}")
    return saved


def parse_now(value: str) -> int:
    """`--now`: epoch seconds, or ISO 8601 with a zone (`2026-11-30T12:00:00Z`, `...+01:00`)."""
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{value!r} is neither epoch seconds nor an ISO 8601 time (e.g. 2026-11-30T12:00:00Z)"
        ) from None
    if when.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; add Z or an offset (e.g. 2026-11-30T12:00:00Z)")
    return int(when.timestamp())


@app.command()
def up(
    products: Annotated[int, typer.Option(help="Products in the store.")] = 200,
    customers: Annotated[int, typer.Option(help="Customers in the store.")] = 100,
    orders: Annotated[int, typer.Option(help="Orders in the store.")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the world; same seed, same data.")] = 1,
    services: Annotated[
        str | None,
        typer.Option(help="Comma-separated services to run (default: every one the sandbox knows)."),
    ] = None,
    tls: Annotated[bool, typer.Option("--tls", help="Serve HTTPS with a throwaway CA.")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    admin_token: Annotated[
        str | None,
        typer.Option(
            envvar="NXT_SANDBOX_ADMIN_TOKEN",
            show_default=False,
            help="Let any client that sends 'Authorization: Bearer TOKEN' use the admin endpoints "
            "(/_sandbox/...), and no other. Without it they answer loopback clients only.",
        ),
    ] = None,
    port: Annotated[
        int, typer.Option(help="First port; each service takes the next one. 0 picks free ports.")
    ] = 0,
    gmt_offset: Annotated[
        float, typer.Option(help="Store timezone as hours from UTC (WordPress gmt_offset).")
    ] = 0.0,
    latency_ms: Annotated[float, typer.Option(help="Latency added to every request (ms).")] = 0.0,
    jitter_ms: Annotated[float, typer.Option(help="Extra random latency, 0..N ms.")] = 0.0,
    error_rate: Annotated[float, typer.Option(help="Share of requests answered 500/502/503 (0..1).")] = 0.0,
    rate_limit_rpm: Annotated[
        int, typer.Option(help="Requests per rolling minute before 429 + Retry-After (0 = off).")
    ] = 0,
    slow_rate: Annotated[float, typer.Option(help="Share of requests held --slow-ms (0..1).")] = 0.0,
    slow_ms: Annotated[float, typer.Option(help="How long a slow request is held (ms).")] = 30000.0,
    drop_rate: Annotated[
        float, typer.Option(help="Share of requests whose connection is dropped (0..1).")
    ] = 0.0,
    max_concurrency: Annotated[
        int, typer.Option(help="Requests served at once; the rest wait (0 = unlimited).")
    ] = 0,
    webhook_timeout: Annotated[
        float, typer.Option(help="Seconds a webhook delivery may take (WooCommerce: 60).")
    ] = 60.0,
    cache_records: Annotated[
        int, typer.Option(help="Rendered records kept per resource (~3.6 KB each).")
    ] = 120_000,
    now: Annotated[
        str | None,
        typer.Option(
            help="Where the world's history ends: ISO 8601 with a zone or epoch seconds "
            "(default: now, rounded down to the minute). Pin it for reproducible runs."
        ),
    ] = None,
    discrepancy_rate: Annotated[
        float, typer.Option(help="Share of paid orders with a planted gateway discrepancy (0..1).")
    ] = 0.03,
    contact_flag_rate: Annotated[
        float,
        typer.Option(help="Share of customers' phones and emails the providers refuse or bounce (0..1)."),
    ] = 0.05,
    variable_share: Annotated[
        float,
        typer.Option(help="Share of products that are variable, 3-6 variations each (0..1; exact count)."),
    ] = 0.10,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON line of URLs and credentials, then serve.")
    ] = False,
    save_blocks: Annotated[
        bool, typer.Option("--save-blocks", help="Save Prefect blocks pointing at the sandbox.")
    ] = False,
    block_name: Annotated[str, typer.Option(help="Name of the saved blocks.")] = "sandbox",
) -> None:
    """Start the sandbox and serve until Ctrl-C (SIGINT) or SIGTERM."""
    from sandbox._framework import Faults, is_loopback_host, validate_admin_token
    from sandbox.server import SERVICES, start_sandbox

    chosen = list(SERVICES) if services is None else services.split(",")
    names = tuple(s.strip() for s in chosen if s.strip())
    unknown = [s for s in names if s not in SERVICES]
    if unknown:
        fail(f"--services: unknown {', '.join(unknown) or '(none)'}; use one of {', '.join(SERVICES)}")
    for flag, value in (("--products", products), ("--customers", customers), ("--orders", orders)):
        if value < 0:
            fail(f"{flag} must be 0 or more, got {value}")
    if cache_records < 0:
        fail(f"--cache-records must be 0 or more, got {cache_records}")
    rates = (
        ("--discrepancy-rate", discrepancy_rate),
        ("--contact-flag-rate", contact_flag_rate),
        ("--variable-share", variable_share),
    )
    for flag, rate in rates:
        if not 0.0 <= rate <= 1.0:
            fail(f"{flag} must be between 0 and 1, got {rate}")
    end: int | None = None
    if now is not None:
        try:
            end = parse_now(now)
        except ValueError as exc:
            fail(f"--now: {exc}")
    if not 0 <= port <= 65535 - len(names):
        fail(f"--port must be between 0 and {65535 - len(names)}, got {port}")
    if admin_token is not None:
        try:
            validate_admin_token(admin_token)
        except ValueError as exc:
            fail(f"--admin-token (or NXT_SANDBOX_ADMIN_TOKEN): {exc}")
    elif not is_loopback_host(host):
        typer.echo(
            f"warning: listening on {host}, but the admin endpoints (/_sandbox/...) answer loopback clients "
            "only; set --admin-token (or NXT_SANDBOX_ADMIN_TOKEN) to use them from other hosts",
            err=True,
        )
    try:
        faults = Faults(
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            error_rate=error_rate,
            rate_limit_rpm=rate_limit_rpm,
            slow_rate=slow_rate,
            slow_ms=slow_ms,
            drop_rate=drop_rate,
            max_concurrency=max_concurrency,
        )
    except ValueError as exc:
        fail(f"--{str(exc).split(' ')[0].replace('_', '-')}: {exc}")
    try:
        sb = start_sandbox(
            services=names,
            products=products,
            customers=customers,
            orders=orders,
            seed=seed,
            tls=tls,
            faults=faults,
            host=host,
            port=port,
            gmt_offset_hours=gmt_offset,
            webhook_timeout=webhook_timeout,
            cache_records=cache_records,
            admin_token=admin_token,
            now=end,
            discrepancy_rate=discrepancy_rate,
            contact_flag_rate=contact_flag_rate,
            variable_share=variable_share,
        )
    except OSError as exc:
        fail(f"cannot listen on {host}:{port or 'a free port'} ({exc.strerror or exc}); try --port 0")
    except RuntimeError as exc:
        fail(str(exc))

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        saved: list[str] = []
        if save_blocks:
            try:
                saved = _save_blocks(sb, block_name)
            except Exception as exc:  # Prefect API down, blocks package missing, ...
                sb.stop()
                fail(f"--save-blocks: could not save blocks ({type(exc).__name__}: {exc})")
        info = sb.describe()
        if as_json:
            sys.stdout.write(json.dumps(info) + "\n")
            sys.stdout.flush()
        else:
            pinned = datetime.fromtimestamp(sb.world.now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            typer.echo(f"sandbox up in {sb.startup_seconds:.2f}s (seed {seed}, history ends {pinned})")
            for name, entry in info.items():
                typer.echo(f"\n{name}")
                for k, v in entry.items():
                    typer.echo(f"  {k:<26} {v}")
            if sb.ca_file:
                typer.echo(f"\nCA file (trust it, e.g. SSL_CERT_FILE): {sb.ca_file}")
            for line in saved:
                typer.echo(f"saved block {line}")
            typer.echo("\nCtrl-C to stop.")
        while not stop.wait(0.5):
            pass
    finally:
        sb.stop()
