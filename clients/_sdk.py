"""HTTP plumbing for the official Twilio and SendGrid SDKs: a timeout, deliberate retries, a custom CA.

Both SDKs wait forever by default and each trusts certificates its own way, so the blocks build their
clients' HTTP layer here (no Prefect, no globals patched):

- **Twilio** (`requests`): `twilio_http_client()` is a `TwilioHttpClient` with a timeout, adapters on
  both schemes (the SDK mounts its retrying adapter on `https://` only), and a CA bundle that wins over
  `REQUESTS_CA_BUNDLE`/`CURL_CA_BUNDLE`. requests lets those variables replace a session's `verify` (its
  `merge_environment_settings`) unless `trust_env` is off, and turning `trust_env` off would also drop
  proxy settings and `.netrc`; so the session pins only `verify`.
  Retries: a connection that could not be made (the request never left) is retried for every method; a
  read that failed is retried for idempotent methods only, so a message Twilio may have accepted is
  never sent twice by the transport. HTTP statuses are not retried here: 429 and 5xx are the caller's
  decision (the outbox knows whether a send is safe to repeat).
- **SendGrid** (`python-http-client`, urllib): urllib takes a CA only through an `ssl.SSLContext` on its
  HTTPS handler, and the client builds a new opener per request, so `SendGridHttpClient` (a subclass
  of `python_http_client.Client`, passed along the URL chain) opens every request with an opener
  carrying that context. No retries: Mail Send has no idempotency key, so a repeated send could be a
  second email; the caller decides.
"""

from __future__ import annotations

import ssl
import urllib.request
from typing import Any

import python_http_client
import requests
from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from urllib3.util.retry import Retry

__all__ = ["SendGridHttpClient", "twilio_http_client"]


class _PinnedCASession(requests.Session):
    """A session whose `verify` (a CA bundle) is not replaced by REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE."""

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings["verify"] = self.verify
        return settings


def twilio_http_client(
    *, timeout_s: float, max_retries: int, ca_bundle: str | None = None
) -> TwilioHttpClient:
    """A `TwilioHttpClient` for `twilio.rest.Client(..., http_client=...)`."""
    client = TwilioHttpClient(timeout=timeout_s)
    session: requests.Session = _PinnedCASession() if ca_bundle else requests.Session()
    if ca_bundle:
        session.verify = ca_bundle
    # With no retries, requests' default adapter raises each error as itself (a POST that timed out
    # is a `ReadTimeout`: it may have been sent); with retries, urllib3 retries reads of idempotent
    # methods only and re-raises a POST's read error as it was.
    retry = Retry(
        total=max_retries,
        connect=max_retries,
        read=max_retries,
        status=0,
        other=0,
        redirect=0,
        backoff_factor=0.5,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry) if max_retries else HTTPAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    client.session = session
    return client


class SendGridHttpClient(python_http_client.Client):  # type: ignore[misc]
    """`python_http_client.Client` whose requests trust `ssl_context` (and time out)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ssl_context = ssl_context

    def _build_client(self, name: str | None = None) -> SendGridHttpClient:
        url_path = self._url_path + [name] if name else self._url_path
        return SendGridHttpClient(
            ssl_context=self.ssl_context,
            host=self.host,
            version=self._version,
            request_headers=self.request_headers,
            url_path=url_path,
            append_slash=self.append_slash,
            timeout=self.timeout,
        )

    def _make_request(
        self, opener: Any, request: urllib.request.Request, timeout: float | None = None
    ) -> Any:
        if self.ssl_context is not None:
            opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=self.ssl_context))
        return super()._make_request(opener, request, timeout=timeout)
