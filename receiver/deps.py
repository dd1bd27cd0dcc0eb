"""FastAPI dependencies as named `Annotated` aliases: the running receiver, the raw body within the size
limit, each vendor's verified body, and the management API's bearer token.

`VerifiedBody` aliases (`WooCommerceBody`, `StripeBody`, ...) read the raw body (refusing a body over
`max_body_bytes` with 413 before reading it all), check the vendor's signature on those exact bytes and
parse it into inbox items; a handler that declares one only runs for a verified request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, status
from sqlalchemy.engine import Engine

from receiver.credentials import Integrations
from receiver.errors import Rejected
from receiver.metrics import Metrics
from receiver.settings import ReceiverSettings
from receiver.sources import SOURCES, Accepted, Incoming
from receiver.writer import GroupWriter

__all__ = [
    "ApiToken",
    "AuthorizeNetBody",
    "HubEngine",
    "PayPalBody",
    "Runtime",
    "RuntimeDep",
    "SendGridBody",
    "SquareBody",
    "StripeBody",
    "ThirdPartyBody",
    "TwilioBody",
    "Verified",
    "WooCommerceBody",
    "read_body",
    "verified",
]


@dataclass
class Runtime:
    """Everything a request needs, built by the app's lifespan (`app.state.nxt`)."""

    settings: ReceiverSettings
    engine: Engine
    integrations: Integrations
    writer: GroupWriter
    metrics: Metrics
    dispatcher: Any = None  # receiver.dispatch.Dispatcher when dispatching in this process
    starter: Any = None  # receiver.dispatch.FlowStarter
    extra: dict[str, Any] = field(default_factory=dict)


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.nxt  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_engine(rt: RuntimeDep) -> Engine:
    return rt.engine


HubEngine = Annotated[Engine, Depends(get_engine)]


async def read_body(request: Request, limit: int, source: str | None = None) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise Rejected(
                status.HTTP_400_BAD_REQUEST, "Content-Length is not a number", source=source
            ) from None
        if size > limit:
            raise Rejected(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"body of {size} bytes is over the limit of {limit}",
                source=source,
            )
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise Rejected(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"body is over the limit of {limit} bytes",
                source=source,
            )
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class Verified:
    """A request whose signature checked out (or verification is off), parsed into inbox items."""

    source: str
    accepted: Accepted


def verified(source: str) -> Callable[[Request, Runtime], Awaitable[Verified]]:
    """The dependency that reads, verifies and parses a webhook of `source`."""
    handler = SOURCES[source]

    async def dependency(request: Request, rt: RuntimeDep) -> Verified:
        body = await read_body(request, rt.settings.max_body_bytes, source)
        incoming = Incoming(
            body=body,
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.scope["headers"]},
            path=request.url.path,
            query=request.url.query,
            url=str(request.url),
            path_params=dict(request.path_params),
        )
        accepted = await handler.accept(
            incoming,
            rt.integrations.current,
            rt.settings,
            verify_signatures=rt.integrations.verification_enabled(),
        )
        return Verified(source, accepted)

    return dependency


WooCommerceBody = Annotated[Verified, Depends(verified("woocommerce"))]
StripeBody = Annotated[Verified, Depends(verified("stripe"))]
PayPalBody = Annotated[Verified, Depends(verified("paypal"))]
SquareBody = Annotated[Verified, Depends(verified("square"))]
AuthorizeNetBody = Annotated[Verified, Depends(verified("authorizenet"))]
TwilioBody = Annotated[Verified, Depends(verified("twilio"))]
SendGridBody = Annotated[Verified, Depends(verified("sendgrid"))]
ThirdPartyBody = Annotated[Verified, Depends(verified("third-party"))]


async def require_token(request: Request, rt: RuntimeDep) -> None:
    """`Authorization: Bearer <token>` matching the Receiver API block (constant-time), else 401."""
    api = rt.integrations.current.api
    if api is None:
        raise Rejected(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the management API has no token yet: run `nxt webhooks api-token` (a Receiver API block)",
            source="api",
        )
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Rejected(status.HTTP_401_UNAUTHORIZED, "missing Authorization: Bearer <token>", source="api")
    if not api.accepts(token.strip()):
        raise Rejected(status.HTTP_401_UNAUTHORIZED, "the bearer token does not match", source="api")


ApiToken = Depends(require_token)
