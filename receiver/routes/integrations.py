"""`/api/integrations/...`: the old service's management API, with its JSON (`success`, `message`, `data`).

Every route needs `Authorization: Bearer <token>` (the Receiver API block). `payments/status`,
`payments/process` and `payments/refund` run the payment flows (`flows.payments`) and read the hub's
ledger (`hub.payments.payment_status`); `sms/send` and `email/send` are added by the notification flows'
routers.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from blocks import circuit_state
from flows.payments import process_payment, refund_payment
from flows.woocommerce_sync import woocommerce_sync
from hub import inbox, sync_runs
from hub.payments import PaymentError, payment_status
from receiver.credentials import SERVICE_BLOCKS
from receiver.deps import ApiToken, RuntimeDep
from receiver.errors import Rejected

__all__ = ["router"]

router = APIRouter(prefix="/api/integrations", tags=["integrations"], dependencies=[ApiToken])

_SYNC_DEPLOYMENTS = ("woocommerce-sync/nightly-full-{store}", "woocommerce-sync/nightly-full")


class ApiResponse(BaseModel):
    """The old service's envelope."""

    success: bool
    message: str | None = None
    data: Any = None


class SyncOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    batchSize: int | None = Field(default=None, ge=1, le=100, description="Records per page (1-100).")
    force: bool = Field(default=False, description="Ignore cursors and re-read everything.")


class SyncRequest(BaseModel):
    """`POST /api/integrations/woocommerce/sync`, as the old service took it."""

    model_config = ConfigDict(extra="forbid")
    syncType: Literal["full", "products", "customers", "orders"] = "full"
    direction: Literal["pull", "push", "bidirectional"] = "pull"
    options: SyncOptions = Field(default_factory=SyncOptions)
    store: str = Field(default="default", description="WooCommerce Store block name (an addition).")


def _json(body: dict[str, Any], code: int = status.HTTP_200_OK) -> Response:
    return Response(orjson.dumps(body, default=str), status_code=code, media_type="application/json")


def _base_url(service: str, block: Any) -> str | None:
    if block is None:
        return None
    for attr in ("site_url", "api_base_url", "base_url"):
        value = getattr(block, attr, None)
        if isinstance(value, str) and value:
            return value
    return None


def _service_status(rt: RuntimeDep, service: str) -> dict[str, Any]:
    loaded = rt.integrations.current
    block = loaded.block(service)
    verification = rt.integrations.verification_enabled()
    secret_field = {
        "woocommerce": "webhook_secret",
        "stripe": "webhook_secret",
        "paypal": "webhook_id",
        "square": "webhook_signature_key",
        "authorizenet": "signature_key",
        "twilio": "auth_token",
        "sendgrid": "verification_key",
        "third-party": "secrets",
    }[service]
    has_secret = block is not None and bool(getattr(block, secret_field, None))
    if service == "third-party" and block is not None:
        has_secret = bool(block.secrets.get_secret_value())
    enabled = block is not None and (service != "woocommerce" or bool(block.realtime_enabled))
    base = _base_url(service, block)
    out: dict[str, Any] = {
        "service": service,
        "configured": block is not None,
        "enabled": enabled,
        "block": SERVICE_BLOCKS[service].get_block_type_name(),
        "webhookPath": "/api/webhooks/third-party/{service}"
        if service == "third-party"
        else f"/api/webhooks/{service}",
        "webhookVerification": "off" if not verification else ("ready" if has_secret else "not set up"),
        "circuitBreaker": circuit_state(base) if base else None,
    }
    if service == "woocommerce":
        out["stores"] = {
            name: {
                "realTimeEnabled": b.realtime_enabled,
                "webhookSecret": b.webhook_secret is not None,
                "circuitBreaker": circuit_state(str(b.site_url)),
            }
            for name, b in loaded.stores.items()
        }
    if service == "third-party" and block is not None:
        out["services"] = sorted((block.secrets.get_secret_value() or {}).keys())
    return out


async def _inbox_counts(rt: RuntimeDep) -> dict[str, int] | None:
    def run() -> dict[str, int]:
        with rt.engine.connect() as conn:
            return dict(inbox.counts(conn))

    try:
        return await asyncio.to_thread(run)
    except Exception:
        return None


def _blocks_info(rt: RuntimeDep) -> dict[str, Any]:
    loaded = rt.integrations.current
    return {
        "loadedAt": None
        if loaded.loaded_at is None
        else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(loaded.loaded_at)),
        "errors": dict(loaded.errors),
        "signatureVerification": rt.integrations.verification_enabled(),
    }


@router.get("/status", response_model=ApiResponse, summary="Every integration's status")
async def status_all(rt: RuntimeDep) -> Response:
    """Configured/enabled state, webhook verification and circuit breaker of every integration, the inbox
    counts and when the blocks were loaded."""
    data = {
        "services": {s: _service_status(rt, s) for s in SERVICE_BLOCKS},
        "inbox": await _inbox_counts(rt),
        "dispatcher": rt.dispatcher.snapshot() if rt.dispatcher is not None else None,
        "blocks": _blocks_info(rt),
    }
    return _json({"success": True, "data": data})


@router.get("/status/{service}", response_model=ApiResponse, summary="One integration's status")
async def status_one(service: str, rt: RuntimeDep) -> Response:
    """One service's status (`woocommerce`, `stripe`, `paypal`, `square`, `authorizenet`, `twilio`,
    `sendgrid`, `third-party`)."""
    if service not in SERVICE_BLOCKS:
        raise Rejected(
            status.HTTP_404_NOT_FOUND,
            f"unknown service {service!r}; known: {', '.join(SERVICE_BLOCKS)}",
            source="api",
        )
    return _json({"success": True, "data": _service_status(rt, service)})


@router.get("/health", response_model=ApiResponse, summary="Health of the receiver and what it needs")
async def health(rt: RuntimeDep) -> Response:
    """`healthy`, `degraded` (the Prefect API is down: events wait in the inbox) or `unhealthy` (the hub is
    down: webhooks are answered 503), with each check's latency. 503 when unhealthy."""
    from prefect.client.orchestration import get_client

    def hub_check() -> None:
        with rt.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    checks: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.to_thread(hub_check), timeout=5)
        checks["hub"] = {"ok": True}
    except Exception as exc:
        checks["hub"] = {
            "ok": False,
            "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
        }
    checks["hub"]["latencyMs"] = round((time.perf_counter() - started) * 1000, 1)
    started = time.perf_counter()
    try:
        async with get_client() as client:
            problem = await asyncio.wait_for(client.api_healthcheck(), timeout=5)
        checks["prefect"] = {"ok": problem is None} | ({"error": str(problem)[:200]} if problem else {})
    except Exception as exc:
        checks["prefect"] = {"ok": False, "error": type(exc).__name__}
    checks["prefect"]["latencyMs"] = round((time.perf_counter() - started) * 1000, 1)
    checks["writer"] = {"ok": True, "batches": rt.writer.batches, "failures": rt.writer.failures}
    if rt.dispatcher is not None:
        snapshot = rt.dispatcher.snapshot()  # in a child process: also whether that process runs
        checks["dispatcher"] = {"ok": snapshot.get("process", {}).get("running", True), **snapshot}
    state = "healthy" if checks["hub"]["ok"] and checks["prefect"]["ok"] else "degraded"
    if not checks["hub"]["ok"]:
        state = "unhealthy"
    body = {"success": state != "unhealthy", "message": state, "data": {"status": state, "checks": checks}}
    return _json(body, status.HTTP_200_OK if state != "unhealthy" else status.HTTP_503_SERVICE_UNAVAILABLE)


@router.get(
    "/metrics",
    response_model=ApiResponse,
    summary="Request and inbox metrics (JSON, or Prometheus text with Accept: text/plain)",
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request, rt: RuntimeDep) -> Response:
    """Requests per route (count, error rate, response times), inbox counts, dispatcher and writer
    counters. `Accept: text/plain` gives the Prometheus text format."""
    extra = {
        "inbox": await _inbox_counts(rt),
        "dispatcher": rt.dispatcher.snapshot() if rt.dispatcher is not None else None,
    }
    accept = request.headers.get("accept", "")
    if "text/plain" in accept and "application/json" not in accept:
        return Response(rt.metrics.prometheus(extra), media_type="text/plain; version=0.0.4; charset=utf-8")
    data = (
        rt.metrics.snapshot()
        | extra
        | {
            "writer": {
                "batches": rt.writer.batches,
                "events": rt.writer.items,
                "avgBatch": round(rt.writer.items / rt.writer.batches, 2) if rt.writer.batches else 0,
                "failures": rt.writer.failures,
                "lockRetries": rt.writer.lock_retries,
            }
        }
    )
    return _json({"success": True, "data": data})


@router.post("/reinitialize", response_model=ApiResponse, summary="Reload every integration's block")
async def reinitialize(rt: RuntimeDep) -> Response:
    """Re-read every block from Prefect now (new secrets, a new store) and answer the new status."""
    loaded = await rt.integrations.load()
    data = {"services": {s: _service_status(rt, s) for s in SERVICE_BLOCKS}, "blocks": _blocks_info(rt)}
    message = "integrations reinitialized" if not loaded.errors else "some blocks could not be reloaded"
    return _json({"success": not loaded.errors, "message": message, "data": data})


@router.get("/woocommerce/status", response_model=ApiResponse, summary="WooCommerce sync statistics")
async def woocommerce_status(rt: RuntimeDep, store: str = Query(default="default")) -> Response:
    """`stats`, `syncState` and `config` as the old service answered them."""
    data = await asyncio.to_thread(sync_runs.status, rt.engine, store)
    block = rt.integrations.current.stores.get(store)
    data["config"] = (
        None
        if block is None
        else {
            "realTimeEnabled": block.realtime_enabled,
            "batchSize": block.batch_size,
            "conflictResolution": block.conflict_resolution,
        }
    )
    return _json({"success": True, "data": data})


@router.post(
    "/woocommerce/sync",
    response_model=ApiResponse,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a WooCommerce sync (a flow run)",
)
async def woocommerce_sync_start(
    request: SyncRequest,
    rt: RuntimeDep,
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> Response:
    """Start a `woocommerce-sync` flow run and answer its id at once (202). Through the served
    `woocommerce-sync/nightly-full` deployment when it is READY, else in this process. The same
    `Idempotency-Key` header returns the same run."""
    # Scoped to this hub and store: one Prefect server may serve several hubs (staging, production).
    hub_id = hashlib.sha256(rt.engine.url.render_as_string(hide_password=True).encode()).hexdigest()[:8]
    key = f"api-sync-{hub_id}-{request.store}-{idempotency_key or uuid.uuid4()}"
    parameters = {
        "sync_type": request.syncType,
        "direction": request.direction,
        "batch_size": request.options.batchSize,
        "force": request.options.force,
        "store": request.store,
        "hub": rt.settings.hub,
    }
    flow_run_id = await rt.starter.start(
        woocommerce_sync,
        deployment=[d.format(store=request.store) for d in _SYNC_DEPLOYMENTS],
        parameters=parameters,
        key=key,
        tags=["api", f"store:{request.store}"],
        wait=False,
    )
    data = {
        "flowRunId": flow_run_id,
        "syncType": request.syncType,
        "direction": request.direction,
        "store": request.store,
    }
    return _json({"success": True, "message": "sync started", "data": data}, status.HTTP_202_ACCEPTED)


@router.get("/woocommerce/sync/history", response_model=ApiResponse, summary="WooCommerce sync history")
async def woocommerce_sync_history(
    rt: RuntimeDep, store: str = Query(default="default"), limit: int = Query(default=50, ge=1, le=500)
) -> Response:
    """The newest sync runs, newest first."""
    data = await asyncio.to_thread(sync_runs.history, rt.engine, store, limit)
    return _json({"success": True, "data": data})


# --- payments ----------------------------------------------------------------------------------------------
class PaymentRequest(BaseModel):
    """`POST /api/integrations/payments/process`, as the old service took it."""

    model_config = ConfigDict(extra="forbid")
    gateway: str = Field(description="stripe or square.")
    amount: Any = Field(description="Major units of the currency (99.99); a JSON number or a decimal string.")
    currency: str = Field(default="USD", description="ISO 4217 code.")
    customerId: str | None = None
    paymentMethodId: str | None = None
    description: str | None = Field(default=None, max_length=1000)
    metadata: dict[str, Any] = Field(default_factory=dict)


class RefundRequest(BaseModel):
    """`POST /api/integrations/payments/refund`, as the old service took it."""

    model_config = ConfigDict(extra="forbid")
    transactionId: str = Field(min_length=1, max_length=255)
    amount: Any = Field(default=None, description="Major units; omitted refunds what remains.")
    reason: str | None = Field(default=None, max_length=500)
    metadata: dict[str, Any] = Field(default_factory=dict)


def _amount(value: Any) -> Any:
    # A JSON number arrives as a float: its shortest repr is the number the caller wrote (99.99).
    return repr(value) if isinstance(value, float) else value


async def _payment_flow(flow: Any, **parameters: Any) -> Response:
    state = await flow(**parameters, return_state=True)
    try:
        data = await state.aresult(raise_on_failure=True)
    except PaymentError as exc:
        return _json(exc.as_json(), exc.status)
    except Exception as exc:  # a gateway down, a bug: one line, never a traceback
        text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        return _json({"success": False, "message": text, "error": "PAYMENT_FAILED"}, 502)
    return _json({"success": True, "data": data})


@router.get("/payments/status", response_model=ApiResponse, summary="Payment statistics from the ledger")
async def payments_status(rt: RuntimeDep) -> Response:
    """`totalPayments`, `successfulPayments`, `failedPayments`, `totalVolume`, `averageAmount`, `gateways`
    and `byGateway`, as the old service answered them, computed from the hub's ledger."""
    loaded = rt.integrations.current
    configured = [g for g in ("stripe", "paypal", "square", "authorizenet") if loaded.block(g) is not None]

    def run() -> dict[str, Any]:
        with rt.engine.connect() as conn:
            return payment_status(conn, configured=configured)

    return _json({"success": True, "data": await asyncio.to_thread(run)})


@router.post("/payments/process", response_model=ApiResponse, summary="Take a payment (a flow run)")
async def payments_process(
    request: PaymentRequest,
    rt: RuntimeDep,
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> Response:
    """Run `process-payment` and answer its result: `gateway, transactionId, gatewayTransactionId, status,
    amount, currency, clientSecret`. Refusals answer `{"success": false, "message", "error": <code>}`
    (400 bad input, 402 declined). `Idempotency-Key` (else `metadata.orderId`) makes a repeat pay once."""
    response = await _payment_flow(
        process_payment,
        gateway=request.gateway,
        amount=_amount(request.amount),
        currency=request.currency,
        customer_id=request.customerId,
        payment_method_id=request.paymentMethodId,
        description=request.description,
        metadata=request.metadata,
        idempotency_key=idempotency_key,
        hub=rt.settings.hub,
        block=rt.settings.blocks,
    )
    return _with_message(response, "Payment processed successfully")


@router.post("/payments/refund", response_model=ApiResponse, summary="Refund a payment (a flow run)")
async def payments_refund(
    request: RefundRequest,
    rt: RuntimeDep,
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> Response:
    """Run `refund-payment` and answer its result: `gateway, refundId, transactionId, status, amount,
    currency, orderId, wooCommerceRefundId`. `Idempotency-Key` (else `metadata.refundRequestId`, else the
    order and amount) makes a repeat refund once."""
    response = await _payment_flow(
        refund_payment,
        transaction_id=request.transactionId,
        amount=None if request.amount is None else _amount(request.amount),
        reason=request.reason,
        metadata=request.metadata,
        idempotency_key=idempotency_key,
        hub=rt.settings.hub,
        block=rt.settings.blocks,
        store=rt.settings.stores[0] if rt.settings.stores else None,
    )
    return _with_message(response, "Refund processed successfully")


def _with_message(response: Response, message: str) -> Response:
    if response.status_code != status.HTTP_200_OK:
        return response
    body = orjson.loads(response.body)
    return _json({"success": True, "message": message, "data": body["data"]})
