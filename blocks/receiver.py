"""The Receiver API block: the bearer token that guards the receiver's `/api/integrations/...` endpoints."""

from __future__ import annotations

import hmac

from prefect.blocks.core import Block
from pydantic import ConfigDict, Field, SecretStr, field_validator

from blocks._meta import LOGOS, FieldValueError, docs_url

MIN_TOKEN_CHARS = 24


class ReceiverAPI(Block):
    """The bearer token callers of the receiver's management API (`/api/integrations/...`) send.

    Webhook routes do not use it: they are verified by each vendor's signature. `nxt webhooks api-token`
    makes a random token and saves this block.

    Example:
        ```python
        from blocks import ReceiverAPI

        api = ReceiverAPI.load("BLOCK_NAME")
        assert api.accepts("the token a caller sent")
        ```
    """

    _block_type_name = "Receiver API"
    _block_type_slug = "nxt-receiver-api"
    _logo_url = LOGOS["webhook"]
    _documentation_url = docs_url("receiver-api")
    model_config = ConfigDict(hide_input_in_errors=True)  # never echo secrets in errors

    bearer_token: SecretStr = Field(
        description=(
            f"Token callers send as `Authorization: Bearer <token>` (at least {MIN_TOKEN_CHARS} characters)."
        )
    )

    @field_validator("bearer_token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        if len(token) < MIN_TOKEN_CHARS or token != token.strip():
            raise FieldValueError(
                None,
                f"is too short or has spaces: use at least {MIN_TOKEN_CHARS} characters, e.g. from "
                "`nxt webhooks api-token`",
                secret=True,
            )
        return value

    def accepts(self, token: str) -> bool:
        """Whether `token` is this block's token (compared in constant time)."""
        return hmac.compare_digest(token.encode(), self.bearer_token.get_secret_value().encode())
