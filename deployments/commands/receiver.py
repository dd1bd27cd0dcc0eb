"""`nxt receiver`: serve the webhook receiver and the old `/api/integrations/...` API (port 4000)."""

from __future__ import annotations

from typing import Annotated

import typer

from deployments.errors import CommandError


def receiver(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default 4000).")] = None,
    public_base_url: Annotated[
        str | None,
        typer.Option(help="The URL vendors call, e.g. https://hooks.example.com (behind a proxy or tunnel)."),
    ] = None,
    dispatch: Annotated[
        bool,
        typer.Option(
            "--dispatch/--no-dispatch",
            help="Run a dispatcher: pending events become flow runs (in a child process, at a lower CPU "
            "priority; NXT_RECEIVER_DISPATCH_PROCESS=false runs it on the receiver's own loop).",
        ),
    ] = True,
    hub: Annotated[
        str | None,
        typer.Option(help="Hub Database or SqlAlchemy Connector block name (default: NXT_DATABASE_URL)."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Receive vendor webhooks (verify, store, acknowledge) and start their flow runs, until Ctrl-C.

    Settings come from NXT_RECEIVER_* variables (docs/receiver.md); options override them. Secrets come
    from blocks: the store's and gateways' webhook secrets, and the management API's bearer token
    (`nxt webhooks api-token`).
    """
    import importlib.util

    import uvicorn
    from pydantic import ValidationError

    from deployments.prefect_api import ensure_api
    from receiver.settings import ReceiverSettings

    _log_to_stderr(log_level)
    overrides = {
        k: v
        for k, v in {"host": host, "port": port, "public_base_url": public_base_url, "hub": hub}.items()
        if v is not None
    }
    try:
        settings = ReceiverSettings.model_validate({"dispatch_enabled": dispatch, **overrides})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CommandError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    engine = settings.open_hub()  # one clear line now if the hub cannot be reached
    ensure_api(lambda line: typer.echo(line, err=True))  # after the checks: a bad setting starts nothing
    from receiver.app import create_app

    app = create_app(settings, engine=engine)
    typer.echo(
        f"receiver on http://{settings.host}:{settings.port} (webhooks under /api/webhooks, API under "
        f"/api/integrations, docs at /docs); Ctrl-C to stop",
        err=True,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


def _log_to_stderr(level: str) -> None:
    """The receiver's own lines (block reloads, retries, failures) on stderr, like uvicorn's."""
    import logging

    logger = logging.getLogger("nxt")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level.upper() if level.upper() in logging.getLevelNamesMapping() else "INFO")
    logger.propagate = False
