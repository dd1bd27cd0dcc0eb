"""An Authorize.Net stand-in: the JSON API on `/xml/v1/request.api` and the REST webhooks API.

It renders the gateway `authorizenet` of the shared world's ledger: transactions made through the API land
in the ledger, and the seeded history (settled daily into batches, with its planted discrepancies) is what
the reporting calls serve. Where this differs from Authorize.Net is listed in docs/sandbox.md.

Layout (imports point down this list, never up):

    settings      constants: the endpoint, the XSD's element sequences, codes and texts, event types
    encoding      the BOM, ordered request members, decimals, UTC and local times
    errors        `AnetError` and the schema validator's wording
    schema        the XSD check: element order, required elements, simple types (E00003)
    state         `AnetState`: credentials, duplicate window, card expiries, webhooks, received log
    rendering     transactions and batches as the reporting API renders them
    webhooks      the REST registration API and signed deliveries (X-ANET-Signature)
    transactions  createTransactionRequest: authCapture, authOnly, priorAuthCapture, refund, void
    reporting     getSettledBatchList, getTransactionList, getUnsettledTransactionList, getTransactionDetails
    admin         the `/_sandbox/authorizenet` routes
    routes        the dispatcher
    service       `AuthorizeNetService`, wiring it all into a `Service`
"""

from __future__ import annotations

from .service import AuthorizeNetService
from .settings import API_PATH
from .webhooks import sign as sign_notification

__all__ = ["API_PATH", "AuthorizeNetService", "sign_notification"]
