"""`create_app(settings)`: the receiver's FastAPI app. Its lifespan opens the hub, loads the blocks, and
runs the group-commit writer, the dispatcher, the block refresher and the metrics flusher.

Every refusal is answered `{"success": false, "message": "<one line>"}` with its status and recorded as
one `dashboard_events` row (`webhook_rejected` under /api/webhooks, `api_rejected` elsewhere) with the
reason; an unexpected error is a 500 with no detail (the traceback goes to the log), and the process
keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.records import strip_nul
from receiver import verify
from receiver.credentials import Integrations
from receiver.deps import Runtime
from receiver.dispatch import Dispatcher, FlowStarter, Registry
from receiver.dispatcher_process import DispatcherProcess
from receiver.errors import Rejected
from receiver.metrics import Metrics, MetricsMiddleware
from receiver.routes import integrations, messaging, webhooks
from receiver.settings import ReceiverSettings
from receiver.writer import GroupWriter

__all__ = ["create_app"]

logger = logging.getLogger("nxt.receiver")


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(
    settings: ReceiverSettings | None = None,
    *,
    engine: Engine | None = None,
    registry: Registry | None = None,
    starter: FlowStarter | None = None,
) -> FastAPI:
    """Build the receiver.

    Args:
        settings: Defaults to `ReceiverSettings()` (the environment).
        engine: A hub engine to use instead of opening one (tests); the caller disposes of it.
        registry: Dispatcher handlers; defaults to `receiver.handlers.default_registry()`.
        starter: How flows are started (tests pass a fake); defaults to `FlowStarter(settings)`.

    The dispatcher runs in a child process (`settings.dispatch_process`, the default; see
    `receiver.dispatcher_process`), or on this app's loop when that is off or a `registry` or `starter`
    is given (they cannot cross to another process).
    """
    settings = settings or ReceiverSettings()
    metrics = Metrics(settings.metrics_interval_s)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None
        hub = engine if engine is not None else await asyncio.to_thread(settings.open_hub)
        if not settings.signature_verification_enabled:
            logger.warning(
                "WEBHOOK_SIGNATURE_VERIFICATION_ENABLED=false: webhook signatures are NOT checked; anyone "
                "can post events. Use this only for local testing."
            )
        creds = Integrations(settings)
        await asyncio.gather(creds.load(), asyncio.to_thread(verify.preload))
        flow_starter = starter or FlowStarter(settings)
        dispatcher: Dispatcher | None = None
        child: DispatcherProcess | None = None
        if settings.dispatch_enabled and settings.dispatch_process and registry is None and starter is None:
            # The API this receiver's client talks to (from the environment, a profile, the temporary
            # server `nxt receiver` started, or a test harness), which the child could not find itself.
            prefect_api = str((await flow_starter.client()).api_url)
            child = DispatcherProcess(
                settings,
                hub.url.render_as_string(hide_password=False),
                prefect_api,
                log_level=logging.getLevelName(logging.getLogger("nxt").getEffectiveLevel()),
            )
            await child.start()
        elif settings.dispatch_enabled:
            from receiver.handlers import default_registry

            dispatcher = Dispatcher(settings, hub, creds, registry or default_registry(), flow_starter)
        wake = dispatcher.wake if dispatcher else child.wake if child else None
        writer = GroupWriter(
            hub, max_batch=settings.write_batch_max, on_commit=wake, on_loop=settings.write_on_loop
        )
        writer.start()
        rt = Runtime(settings, hub, creds, writer, metrics, dispatcher or child, flow_starter)
        app.state.nxt = rt
        # Everything loaded so far lives as long as the process: keep it out of the collector's scans,
        # whose full passes otherwise stall requests for tens of milliseconds.
        gc.collect()
        gc.freeze()
        background = [
            asyncio.create_task(creds.refresh_forever(), name="nxt-receiver-blocks"),
            asyncio.create_task(_flush_metrics(rt), name="nxt-receiver-metrics"),
        ]
        if dispatcher is not None:
            background.append(asyncio.create_task(dispatcher.run_forever(), name="nxt-receiver-dispatcher"))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(BaseException):
                    await task
            if dispatcher is not None:
                await dispatcher.stop()
            if child is not None:
                await child.stop()
            await flow_starter.close()
            for row in metrics.flush():
                writer.record("metrics", row)
            await writer.stop()
            if own_engine:
                hub.dispose()

    app = FastAPI(
        title="NXT Integrations receiver",
        summary="Vendor webhooks in (verified, stored, acknowledged), flow runs out; the old management API.",
        version="1.0",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.include_router(webhooks.router)
    app.include_router(integrations.router)
    app.include_router(messaging.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        """Liveness for proxies and orchestrators: the process answers (no token, no detail)."""
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.exception_handler(Rejected)
    async def rejected(request: Request, exc: Rejected) -> Response:
        return _refuse(request, exc.status, exc.reason, exc.source, exc.error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        reason = {404: "not found", 405: "method not allowed"}.get(exc.status_code, str(exc.detail))
        return _refuse(request, exc.status_code, reason, None)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        field = ".".join(str(p) for p in errors[0].get("loc", ()) if p != "body") if errors else ""
        error = {"code": "invalid_request", "field": field or None}
        return _refuse(request, status.HTTP_400_BAD_REQUEST, _validation_message(exc), "api", error)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return _refuse(request, status.HTTP_500_INTERNAL_SERVER_ERROR, "internal error", None)

    return app


def _refuse(
    request: Request, code: int, reason: str, source: str | None, error: dict[str, Any] | None = None
) -> Response:
    webhook = request.url.path.startswith("/api/webhooks")
    rt: Runtime | None = getattr(request.app.state, "nxt", None)
    if rt is not None:
        client = request.client.host if request.client else None
        rt.writer.record(
            "events",
            strip_nul(
                {
                    "event_type": "webhook_rejected" if webhook else "api_rejected",
                    "event_source": "api_integration",
                    "severity": "error" if code >= 500 else "warning",
                    "message": f"{request.method} {request.url.path[:200]} -> {code}: {reason}"[:2000],
                    "data": {
                        "status": code,
                        "reason": reason[:500],
                        "source": source,
                        "path": request.url.path[:300],
                        "method": request.method,
                        "client": client,
                    },
                }
            ),
        )
    headers = {"Allow": "POST"} if code == status.HTTP_405_METHOD_NOT_ALLOWED and webhook else None
    body: dict[str, Any] = {"success": False, "message": reason}
    if error:
        body["error"] = error
    return Response(orjson.dumps(body), status_code=code, media_type="application/json", headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    return f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid request"))


async def _flush_metrics(rt: Runtime) -> None:
    while True:
        await asyncio.sleep(max(0.05, rt.settings.metrics_interval_s - 0.0))
        for row in rt.metrics.flush():
            rt.writer.record("metrics", row)
