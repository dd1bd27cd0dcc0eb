"""Blocks: validation, save/load round trips, secrets never shown, and the clients they build."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from prefect.blocks.core import Block
from pydantic import ValidationError

from blocks import (
    AuthorizeNetGateway,
    BlockNotFound,
    HubDatabase,
    PayPalGateway,
    SendGridEmail,
    SquareGateway,
    StripeGateway,
    ThirdPartyWebhookSecrets,
    TwilioSMS,
    WooCommerceStore,
    load_block,
)

SECRETS = {
    "ck_SECRET_key_1",
    "cs_SECRET_secret_2",
    "whsec_SECRET_3",
    "sk_test_SECRET_4",
    "paypal_SECRET_5",
    "square_SECRET_6",
    "square_sig_SECRET_7",
    "anet_SECRET_8",
    "anet_sig_SECRET_9",
    "twilio_SECRET_10",
    "SG.SECRET_11",
    "hub_pw_SECRET_12",
    "thirdparty_SECRET_13",
}


def sample_blocks() -> list[Block]:
    """One fully filled block of every type; every secret value is in SECRETS."""
    return [
        WooCommerceStore(
            site_url="https://shop.example.com/",
            consumer_key="ck_SECRET_key_1",
            consumer_secret="cs_SECRET_secret_2",
            webhook_secret="whsec_SECRET_3",
            conflict_resolution="manual",
            batch_size=25,
        ),
        StripeGateway(
            secret_key="sk_test_SECRET_4",
            publishable_key="pk_test_1",
            webhook_secret="whsec_SECRET_3",
        ),
        PayPalGateway(client_id="AbC", client_secret="paypal_SECRET_5", environment="sandbox"),
        SquareGateway(
            access_token="square_SECRET_6",
            location_ids=["L1", "L2"],
            webhook_signature_key="square_sig_SECRET_7",
            notification_url="https://hooks.example.com/webhooks/square",
        ),
        AuthorizeNetGateway(
            api_login_id="login", transaction_key="anet_SECRET_8", signature_key="anet_sig_SECRET_9"
        ),
        TwilioSMS(account_sid="AC123", auth_token="twilio_SECRET_10", from_number="+15551234567"),
        SendGridEmail(api_key="SG.SECRET_11", from_email="noreply@example.com"),
        HubDatabase(url="postgresql+psycopg://nxt:hub_pw_SECRET_12@db.example.com:5432/nxt"),
        ThirdPartyWebhookSecrets(secrets={"shipstation": "thirdparty_SECRET_13"}, max_retries=2),
    ]


def _assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"secret {secret!r} leaked"


@pytest.mark.parametrize("block", sample_blocks(), ids=lambda b: type(b).__name__)
def test_secrets_never_in_repr_or_str(block: Block) -> None:
    _assert_no_secret(repr(block))
    _assert_no_secret(str(block))
    _assert_no_secret(str(block.model_dump()))
    _assert_no_secret(block.model_dump_json())


@pytest.mark.parametrize("block", sample_blocks(), ids=lambda b: type(b).__name__)
def test_save_and_load_round_trip(block: Block) -> None:
    name = f"rt-{uuid.uuid4().hex[:8]}"
    block.save(name)
    loaded = type(block).load(name)
    assert loaded == block
    # Secrets survive the round trip (tests may read them; product code does so only in client()).
    assert loaded.model_dump(context={"include_secrets": True}) == block.model_dump(
        context={"include_secrets": True}
    )
    _assert_no_secret(repr(loaded))


def test_load_block_missing_name_is_one_clear_error() -> None:
    with pytest.raises(BlockNotFound) as info:
        load_block(WooCommerceStore, "no-such-store")
    assert str(info.value) == (
        "no WooCommerce Store block named 'no-such-store'; "
        "create it with `nxt blocks from-env` or in the Prefect UI"
    )
    assert isinstance(info.value, ValueError)


def test_load_block_returns_the_block() -> None:
    block = StripeGateway(secret_key="sk_test_SECRET_4")
    block.save("lb-found")
    assert load_block(StripeGateway, "lb-found") == block


def test_woocommerce_defaults_follow_the_old_service() -> None:
    store = WooCommerceStore(site_url="https://s.example.com", consumer_key="k", consumer_secret="s")
    assert store.api_version == "wc/v3"
    assert store.verify_tls is True and store.ca_bundle is None
    assert (store.batch_size, store.max_retries, store.retry_delay_ms) == (50, 3, 1000)
    assert (store.rate_limit_rpm, store.realtime_enabled) == (600, True)
    assert (store.conflict_resolution, store.max_concurrency) == ("timestamp", 4)
    assert store.timeout_ms == 30_000  # the old service's API_TIMEOUT default


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (
            WooCommerceStore,
            {"site_url": "not a url", "consumer_key": "k", "consumer_secret": "s"},
            "is not an http(s) URL",
        ),
        (
            WooCommerceStore,
            {"site_url": "ftp://x.example.com", "consumer_key": "k", "consumer_secret": "s"},
            "is not an http(s) URL",
        ),
        (
            WooCommerceStore,
            {
                "site_url": "https://x.y",
                "consumer_key": "k",
                "consumer_secret": "s",
                "conflict_resolution": "foo",
            },
            "conflict_resolution",
        ),
        (TwilioSMS, {"account_sid": "AC1", "auth_token": "t", "from_number": "555-1234"}, "E.164"),
        (SendGridEmail, {"api_key": "k", "from_email": "not-an-email"}, "is not an email address"),
        (HubDatabase, {"url": "hub_pw_SECRET_12 is not a url"}, "is not a database URL"),
        (HubDatabase, {"url": "mysql://u:hub_pw_SECRET_12@h/db"}, "unsupported database 'mysql'"),
        (
            HubDatabase,
            {"url": "sqlite:///x.db", "pool_max_connections": 2, "pool_min_connections": 3},
            "lower the minimum",
        ),
        (
            PayPalGateway,
            {"client_id": "a", "client_secret": "b", "environment": "live"},
            "environment",
        ),
    ],
)
def test_bad_values_are_rejected_without_echoing_secrets(
    cls: type[Block], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        cls(**kwargs)
    assert message in str(info.value)
    _assert_no_secret(str(info.value))


def test_urls_are_normalised() -> None:
    store = WooCommerceStore(site_url=" https://s.example.com/ ", consumer_key="k", consumer_secret="s")
    assert store.site_url == "https://s.example.com"


@pytest.mark.parametrize(
    ("cls", "kwargs", "production", "sandbox"),
    [
        (
            PayPalGateway,
            {"client_id": "a", "client_secret": "b"},
            "https://api-m.paypal.com",
            "https://api-m.sandbox.paypal.com",
        ),
        (
            SquareGateway,
            {"access_token": "t"},
            "https://connect.squareup.com",
            "https://connect.squareupsandbox.com",
        ),
        (
            AuthorizeNetGateway,
            {"api_login_id": "l", "transaction_key": "k"},
            "https://api.authorize.net",
            "https://apitest.authorize.net",
        ),
    ],
)
def test_base_url_follows_environment_unless_given(
    cls: type[Any], kwargs: dict[str, Any], production: str, sandbox: str
) -> None:
    assert cls(**kwargs).api_base_url == production
    assert cls(**kwargs, environment="sandbox").api_base_url == sandbox
    given = cls(**kwargs, environment="sandbox", base_url="http://127.0.0.1:8765/")
    assert given.api_base_url == "http://127.0.0.1:8765"


def test_square_reads_documents_saved_with_one_location_id() -> None:
    """Documents saved before `location_ids` carry `location_id`: they still load, as a list of one."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import BlockDocumentCreate

    old = SquareGateway.model_validate({"access_token": "square_SECRET_6", "location_id": "L1"})
    assert old.location_ids == ["L1"]
    assert SquareGateway.model_validate({"access_token": "t", "location_id": None}).location_ids == []
    both = SquareGateway.model_validate({"access_token": "t", "location_id": "L1", "location_ids": ["L2"]})
    assert both.location_ids == ["L2"]  # the new field wins

    SquareGateway.register_type_and_schema()
    with get_client(sync_client=True) as client:
        block_type = client.read_block_type_by_slug(SquareGateway.get_block_type_slug())
        schema = client.get_most_recent_block_schema_for_block_type(block_type.id)
        assert schema is not None
        client.create_block_document(
            BlockDocumentCreate(
                name="square-before-location-ids",
                data={"access_token": "square_SECRET_6", "location_id": "LOLD1"},
                block_schema_id=schema.id,
                block_type_id=block_type.id,
            )
        )
    loaded = SquareGateway.load("square-before-location-ids")
    assert loaded.location_ids == ["LOLD1"]
    assert loaded.access_token.get_secret_value() == "square_SECRET_6"


def test_square_location_ids_must_be_ids() -> None:
    with pytest.raises(ValidationError, match="is not a Square location ID"):
        SquareGateway(access_token="t", location_ids=["L1 L2"])
    assert SquareGateway(access_token="t", location_ids=[" L1", "L1", "L2"]).location_ids == ["L1", "L2"]


def test_stripe_client_is_aimed_at_base_url() -> None:
    import stripe

    gateway = StripeGateway(secret_key="sk_test_SECRET_4", base_url="http://127.0.0.1:8765")
    client = gateway.get_client()
    assert isinstance(client, stripe.StripeClient)
    requestor = client._requestor
    assert requestor.base_addresses["api"] == "http://127.0.0.1:8765"
    assert requestor.api_key == "sk_test_SECRET_4"


def test_twilio_client_is_aimed_at_base_url() -> None:
    from twilio.rest import Client

    sms = TwilioSMS(
        account_sid="AC123",
        auth_token="twilio_SECRET_10",
        from_number="+15551234567",
        base_url="http://127.0.0.1:8766",
    )
    client = sms.get_client()
    assert isinstance(client, Client)
    assert client.api.base_url == "http://127.0.0.1:8766"
    assert (client.username, client.password) == ("AC123", "twilio_SECRET_10")


def test_sendgrid_client_is_aimed_at_base_url() -> None:
    from sendgrid import SendGridAPIClient

    email = SendGridEmail(
        api_key="SG.SECRET_11", from_email="noreply@example.com", base_url="http://127.0.0.1:8767"
    )
    client = email.get_client()
    assert isinstance(client, SendGridAPIClient)
    assert client.host == "http://127.0.0.1:8767"
    assert client.api_key == "SG.SECRET_11"


def test_sendgrid_verification_key_reads_documents_saved_under_the_old_name() -> None:
    old = {"api_key": "SG.SECRET_11", "from_email": "noreply@example.com", "event_webhook_public_key": "MFkw"}
    assert SendGridEmail.model_validate(old).verification_key == "MFkw"
    new = SendGridEmail(api_key="SG.SECRET_11", from_email="noreply@example.com", verification_key="MFkw")
    assert new.verification_key == "MFkw"
    assert "verification_key" in SendGridEmail.model_json_schema()["properties"]
    assert "event_webhook_public_key" not in new.model_dump()


def test_sendgrid_block_saved_with_the_old_field_loads() -> None:
    """A document saved before the rename (data under `event_webhook_public_key`) loads into the new field."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import BlockDocumentCreate

    SendGridEmail(api_key="SG.SECRET_11", from_email="noreply@example.com").save("new-doc", overwrite=True)
    with get_client(sync_client=True) as client:
        block_type = client.read_block_type_by_slug("nxt-sendgrid-email")
        schema = client.get_most_recent_block_schema_for_block_type(block_type.id)
        assert schema is not None
        client.create_block_document(
            BlockDocumentCreate(
                name="old-sendgrid-doc",
                data={
                    "api_key": "SG.SECRET_11",
                    "from_email": "noreply@example.com",
                    "event_webhook_public_key": "MFkw",
                },
                block_schema_id=schema.id,
                block_type_id=block_type.id,
            )
        )
    assert SendGridEmail.load("old-sendgrid-doc").verification_key == "MFkw"


def test_messaging_clients_have_timeouts_and_the_ca_bundle(tmp_path: Path) -> None:
    from twilio.rest import Client

    sms = TwilioSMS(
        account_sid="AC123",
        auth_token="twilio_SECRET_10",
        from_number="+15551234567",
        ca_bundle=str(tmp_path / "ca.pem"),
        timeout_ms=1500,
        max_retries=3,
    )
    client = sms.client()
    assert isinstance(client, Client)
    http = client.http_client
    assert http.timeout == 1.5
    assert http.session.verify == str(tmp_path / "ca.pem")
    assert http.session.get_adapter("http://x").max_retries.total == 3
    assert http.session.get_adapter("https://x").max_retries.total == 3
    assert "POST" not in http.session.get_adapter("https://x").max_retries.allowed_methods
    email = SendGridEmail(api_key="SG.SECRET_11", from_email="noreply@example.com", timeout_ms=2500)
    assert email.client().client.timeout == 2.5


def test_woocommerce_client_wiring(tmp_path: Path) -> None:
    """client() passes every setting on to the real client."""
    from clients import RetryPolicy, WooCommerceClient

    store = WooCommerceStore(
        site_url="https://shop.example.com",
        consumer_key="ck_SECRET_key_1",
        consumer_secret="cs_SECRET_secret_2",
        max_retries=5,
        retry_delay_ms=250,
        rate_limit_rpm=120,
        max_concurrency=2,
        timeout_ms=12_500,
    )
    client = store.get_client()
    assert isinstance(client, WooCommerceClient)
    assert client.base_url == "https://shop.example.com" and client.api_version == "wc/v3"
    assert client.auth_method == "basic"
    assert isinstance(client.retry, RetryPolicy)
    assert (client.retry.max_retries, client.retry.base_delay) == (5, 0.25)
    assert client.rate_limit is not None and client.rate_limit.rpm == 120
    assert client.max_concurrency == 2
    assert client.timeout == 12.5 and client.deadline == 60.0
    assert client.verify is True

    ca = tmp_path / "ca.pem"
    ca.write_text("")
    with pytest.raises(Exception, match="ca.pem"):  # an empty file is no CA bundle: proves it is used
        store.model_copy(update={"ca_bundle": str(ca)}).client()
    assert store.model_copy(update={"verify_tls": False}).client().verify is False
    assert (
        WooCommerceStore(site_url="https://s.example.com", consumer_key="k", consumer_secret="s")
        .client()
        .timeout
        == 30.0
    )


def test_woocommerce_timeout_is_bounded() -> None:
    base = {"site_url": "https://s.example.com", "consumer_key": "k", "consumer_secret": "s"}
    for bad in (0, 99, 600_001):
        with pytest.raises(ValidationError, match="timeout_ms"):
            WooCommerceStore(**base, timeout_ms=bad)


def test_woocommerce_client_is_the_real_client() -> None:
    from clients import WooCommerceClient

    store = WooCommerceStore(site_url="http://127.0.0.1:8768", consumer_key="k", consumer_secret="s")
    assert isinstance(store.client(), WooCommerceClient)


def test_hub_database_options_make_a_checked_engine(tmp_path: Path) -> None:
    from hub.db import create_hub_engine

    path = tmp_path / "hub.db"
    engine = create_hub_engine(**HubDatabase(url=f"sqlite:///{path}").engine_options())
    try:
        assert engine.url.database == str(path)
        assert path.exists()
    finally:
        engine.dispose()


def test_hub_block_does_not_import_hub() -> None:
    """Blocks may import only clients/: the Hub Database block describes the hub, hub.db builds it."""
    import ast

    import blocks.hub

    tree = ast.parse(Path(blocks.hub.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert not {m for m in imported if m == "hub" or m.startswith("hub.")}
