"""blocks.from_env: every old variable is mapped or explained, and bad values give one line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocks import (
    AuthorizeNetGateway,
    HubDatabase,
    PayPalGateway,
    SendGridEmail,
    SquareGateway,
    StripeGateway,
    ThirdPartyWebhookSecrets,
    TwilioSMS,
    WooCommerceStore,
)
from blocks.from_env import NOT_USED, SERVICES, EnvFileError, blocks_from_env, read_env

# Every variable the old service's documentation names (seed/000_...txt): the contract of from-env.
SEED_VARIABLES = """
WOOCOMMERCE_API_ENABLED WOOCOMMERCE_SITE_URL WOOCOMMERCE_CONSUMER_KEY WOOCOMMERCE_CONSUMER_SECRET
WOOCOMMERCE_VERSION WC_BATCH_SIZE WC_MAX_RETRIES WC_RETRY_DELAY WC_RATE_LIMIT_RPM
WC_REALTIME_ENABLED WC_CONFLICT_RESOLUTION STRIPE_ENABLED STRIPE_SECRET_KEY
STRIPE_PUBLISHABLE_KEY STRIPE_WEBHOOK_SECRET
PAYPAL_ENABLED PAYPAL_CLIENT_ID PAYPAL_CLIENT_SECRET PAYPAL_ENVIRONMENT SQUARE_ENABLED
SQUARE_ACCESS_TOKEN SQUARE_APPLICATION_ID SQUARE_LOCATION_ID TWILIO_ENABLED TWILIO_ACCOUNT_SID
TWILIO_AUTH_TOKEN TWILIO_FROM_NUMBER SENDGRID_ENABLED SENDGRID_API_KEY SENDGRID_FROM_EMAIL
WEBHOOK_SIGNATURE_VERIFICATION_ENABLED WEBHOOK_MAX_RETRIES WEBHOOK_RETRY_DELAY WEBHOOK_TIMEOUT
API_RATE_LIMIT_RPM API_TIMEOUT DB_POOL_MAX_CONNECTIONS DB_POOL_MIN_CONNECTIONS CACHE_TTL_MINUTES
ENABLE_CACHE_COMPRESSION ENCRYPT_SENSITIVE_DATA PCI_COMPLIANCE_MODE ENABLE_PERFORMANCE_MONITORING
LOG_LEVEL METRICS_COLLECTION_ENABLED ENABLE_ERROR_ALERTS ERROR_ALERT_THRESHOLD API_BASE_URL
TEST_TIMEOUT DEBUG_API_CALLS NODE_ENV
""".split()

GOOD_ENV = """\
# The old service's .env, every service on
WOOCOMMERCE_API_ENABLED=true
WOOCOMMERCE_SITE_URL=https://yourstore.com
WOOCOMMERCE_CONSUMER_KEY=ck_SECRET_woo_key
WOOCOMMERCE_CONSUMER_SECRET=cs_SECRET_woo_secret
WOOCOMMERCE_VERSION=wc/v3
WOOCOMMERCE_WEBHOOK_SECRET=SECRET_woo_hook
WC_BATCH_SIZE=40
WC_MAX_RETRIES=4
WC_RETRY_DELAY=1500
WC_RATE_LIMIT_RPM=300
WC_REALTIME_ENABLED=false
WC_CONFLICT_RESOLUTION=wc_priority  # timestamp, manual, wc_priority, nxt_priority
STRIPE_ENABLED=true
STRIPE_SECRET_KEY=sk_test_SECRET_stripe
STRIPE_PUBLISHABLE_KEY=pk_test_public
STRIPE_WEBHOOK_SECRET=whsec_SECRET_stripe
PAYPAL_ENABLED=true
PAYPAL_CLIENT_ID=paypal-client
PAYPAL_CLIENT_SECRET=SECRET_paypal
PAYPAL_ENVIRONMENT=sandbox  # or production
PAYPAL_WEBHOOK_ID=WH-1
SQUARE_ENABLED=true
SQUARE_ACCESS_TOKEN=SECRET_square
SQUARE_APPLICATION_ID=sq0idp-app
SQUARE_LOCATION_ID=L123
SQUARE_WEBHOOK_SIGNATURE_KEY=SECRET_square_sig
AUTHORIZENET_ENABLED=true
AUTHORIZENET_API_LOGIN_ID=anet-login
AUTHORIZENET_TRANSACTION_KEY=SECRET_anet
AUTHORIZENET_ENVIRONMENT=sandbox
TWILIO_ENABLED=true
TWILIO_ACCOUNT_SID=AC0123
TWILIO_AUTH_TOKEN=SECRET_twilio
TWILIO_FROM_NUMBER=+15551234567
TWILIO_MESSAGES_PER_SECOND=3
SENDGRID_ENABLED=true
SENDGRID_API_KEY=SG.SECRET_sendgrid
SENDGRID_FROM_EMAIL=noreply@yourcompany.com
NXT_DATABASE_URL=postgresql+psycopg://nxt:SECRET_dbpw@localhost:5432/nxt
DB_POOL_MAX_CONNECTIONS=50
DB_POOL_MIN_CONNECTIONS=5
WEBHOOK_SIGNATURE_VERIFICATION_ENABLED=true
WEBHOOK_MAX_RETRIES=5
WEBHOOK_RETRY_DELAY=1000
WEBHOOK_TIMEOUT=15000
WEBHOOK_SECRET_SHIPSTATION=SECRET_shipstation
API_RATE_LIMIT_RPM=1000
API_TIMEOUT=30000
CACHE_TTL_MINUTES=60
ENABLE_CACHE_COMPRESSION=true
ENCRYPT_SENSITIVE_DATA=true
PCI_COMPLIANCE_MODE=true
ENABLE_PERFORMANCE_MONITORING=true
LOG_LEVEL=info
METRICS_COLLECTION_ENABLED=true
ENABLE_ERROR_ALERTS=true
ERROR_ALERT_THRESHOLD=5
NODE_ENV=production
"""

SECRET_MARK = "SECRET"


def _env(tmp_path: Path, text: str = GOOD_ENV) -> dict[str, str]:
    path = tmp_path / ".env"
    path.write_text(text)
    return read_env(path, environ={})


def _mapped() -> set[str]:
    names = set()
    for service in SERVICES:
        names.update(v.name for v in service.variables)
        if service.enabled_var:
            names.add(service.enabled_var)
    return names


def test_every_seed_variable_is_mapped_or_explained() -> None:
    mapped, explained = _mapped(), set(NOT_USED)
    assert not mapped & explained
    missing = [name for name in SEED_VARIABLES if name not in mapped | explained]
    assert not missing, f"neither mapped nor listed in NOT_USED: {missing}"


def test_configuration_doc_lists_every_variable() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    for name in sorted(_mapped() | set(NOT_USED)):
        assert f"`{name}`" in doc, f"docs/configuration.md does not mention {name}"


def test_good_env_builds_every_block(tmp_path: Path) -> None:
    result = blocks_from_env(_env(tmp_path))
    assert result.ok, result.errors
    assert result.skipped == [] and result.unknown == []
    by_type = {type(p.block): p.block for p in result.blocks}
    assert set(by_type) == {
        WooCommerceStore,
        StripeGateway,
        PayPalGateway,
        SquareGateway,
        AuthorizeNetGateway,
        TwilioSMS,
        SendGridEmail,
        HubDatabase,
        ThirdPartyWebhookSecrets,
    }
    store = by_type[WooCommerceStore]
    assert isinstance(store, WooCommerceStore)
    assert store.site_url == "https://yourstore.com"
    assert store.consumer_key.get_secret_value() == "ck_SECRET_woo_key"
    assert (store.batch_size, store.max_retries, store.retry_delay_ms) == (40, 4, 1500)
    assert (store.rate_limit_rpm, store.realtime_enabled) == (300, False)
    assert store.conflict_resolution == "wc_priority"  # the inline comment is not part of it
    assert store.timeout_ms == 30000  # API_TIMEOUT
    square = by_type[SquareGateway]
    assert isinstance(square, SquareGateway)
    assert square.location_ids == ["L123"]  # SQUARE_LOCATION_ID, the old service's one location
    paypal = by_type[PayPalGateway]
    assert isinstance(paypal, PayPalGateway)
    assert paypal.environment == "sandbox" and paypal.webhook_id == "WH-1"
    twilio = by_type[TwilioSMS]
    assert isinstance(twilio, TwilioSMS) and twilio.messages_per_second == 3.0
    hub = by_type[HubDatabase]
    assert isinstance(hub, HubDatabase)
    assert (hub.pool_max_connections, hub.pool_min_connections) == (50, 5)
    hooks = by_type[ThirdPartyWebhookSecrets]
    assert isinstance(hooks, ThirdPartyWebhookSecrets)
    assert hooks.secrets.get_secret_value() == {"shipstation": "SECRET_shipstation"}
    assert (hooks.max_retries, hooks.retry_delay_ms, hooks.timeout_ms) == (5, 1000, 15000)
    assert {name for name, _ in result.not_used} == {
        "API_RATE_LIMIT_RPM",
        "CACHE_TTL_MINUTES",
        "ENABLE_CACHE_COMPRESSION",
        "ENCRYPT_SENSITIVE_DATA",
        "PCI_COMPLIANCE_MODE",
        "ENABLE_PERFORMANCE_MONITORING",
        "LOG_LEVEL",
        "METRICS_COLLECTION_ENABLED",
        "ENABLE_ERROR_ALERTS",
        "ERROR_ALERT_THRESHOLD",
        "NODE_ENV",
    }
    for planned in result.blocks:
        assert SECRET_MARK not in repr(planned.block)


def test_disabled_services_are_skipped_and_said_so(tmp_path: Path) -> None:
    text = GOOD_ENV.replace("STRIPE_ENABLED=true", "STRIPE_ENABLED=false").replace(
        "TWILIO_ENABLED=true", "TWILIO_ENABLED=FALSE"
    )
    # A disabled service is skipped even when its other values would be bad.
    text = text.replace("TWILIO_FROM_NUMBER=+15551234567", "TWILIO_FROM_NUMBER=nope")
    result = blocks_from_env(_env(tmp_path, text))
    assert result.ok, result.errors
    skipped = {s.service: s for s in result.skipped}
    assert set(skipped) == {"stripe", "twilio"}
    assert skipped["stripe"].reason == "STRIPE_ENABLED=false" and skipped["stripe"].disabled
    assert {p.service for p in result.blocks} == {
        "woocommerce",
        "paypal",
        "square",
        "authorizenet",
        "sendgrid",
        "hub",
        "webhooks",
    }


def test_services_with_no_variables_are_skipped_as_not_configured() -> None:
    result = blocks_from_env(
        {
            "STRIPE_SECRET_KEY": "sk_test_SECRET",
            "DB_POOL_MAX_CONNECTIONS": "9",
            "PAYPAL_CLIENT_ID": "",  # empty counts as unset
        }
    )
    assert result.ok, result.errors
    assert [p.service for p in result.blocks] == ["stripe"]
    reasons = {s.service: s.reason for s in result.skipped}
    assert reasons["woocommerce"] == "not configured (no WOOCOMMERCE_* or WC_* variable is set)"
    assert reasons["paypal"] == "not configured (no PAYPAL_* variable is set)"
    assert reasons["hub"].startswith("not configured (NXT_DATABASE_URL is not set;")
    assert not any(s.disabled for s in result.skipped)


def test_api_timeout_alone_configures_nothing() -> None:
    """API_TIMEOUT is the old service's setting for every API: it sets the store's timeout only."""
    result = blocks_from_env({"API_TIMEOUT": "45000"})
    assert result.ok and result.blocks == [] and result.not_used == []
    reasons = {s.service: s.reason for s in result.skipped}
    assert reasons["woocommerce"] == "not configured (no WOOCOMMERCE_* or WC_* variable is set)"
    result = blocks_from_env({**WOO, "API_TIMEOUT": "45000"})
    assert result.ok, result.errors
    (planned,) = result.blocks
    assert isinstance(planned.block, WooCommerceStore) and planned.block.timeout_ms == 45000
    assert "API_TIMEOUT" in planned.variables


def test_a_bad_api_timeout_is_one_line() -> None:
    result = blocks_from_env({**WOO, "API_TIMEOUT": "10"})
    assert result.errors == ["API_TIMEOUT=10 is too small; it must be at least 100"]
    result = blocks_from_env({**WOO, "API_TIMEOUT": "30s"})
    assert result.errors == ["API_TIMEOUT=30s is not a whole number; write digits only, e.g. API_TIMEOUT=50"]


def test_unknown_variables_with_our_prefixes_are_reported() -> None:
    result = blocks_from_env({"STRIPE_SECRETKEY": "x", "WC_BATCHSIZE": "1", "HOME": "/root"})
    assert result.unknown == ["STRIPE_SECRETKEY", "WC_BATCHSIZE"]


WOO = {
    "WOOCOMMERCE_SITE_URL": "https://yourstore.com",
    "WOOCOMMERCE_CONSUMER_KEY": "ck_SECRET",
    "WOOCOMMERCE_CONSUMER_SECRET": "cs_SECRET",
}


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {**WOO, "WC_CONFLICT_RESOLUTION": "foo"},
            "WC_CONFLICT_RESOLUTION=foo is not one of timestamp, manual, wc_priority, nxt_priority",
        ),
        (
            {**WOO, "WOOCOMMERCE_SITE_URL": "not a url"},
            "WOOCOMMERCE_SITE_URL=not a url is not an http(s) URL; give the full address, "
            "e.g. https://yourstore.com",
        ),
        (
            {**WOO, "WC_BATCH_SIZE": "abc"},
            "WC_BATCH_SIZE=abc is not a whole number; write digits only, e.g. WC_BATCH_SIZE=50",
        ),
        (
            {**WOO, "WC_BATCH_SIZE": "500"},
            "WC_BATCH_SIZE=500 is too large; it must be at most 100",
        ),
        (
            {**WOO, "WC_MAX_RETRIES": "-1"},
            "WC_MAX_RETRIES=-1 is too small; it must be at least 0",
        ),
        (
            {**WOO, "WC_REALTIME_ENABLED": "sometimes"},
            "WC_REALTIME_ENABLED=sometimes is not true or false; "
            "set WC_REALTIME_ENABLED=true or WC_REALTIME_ENABLED=false",
        ),
        (
            {**WOO, "WOOCOMMERCE_API_ENABLED": "true", "WOOCOMMERCE_CONSUMER_KEY": ""},
            "WOOCOMMERCE_CONSUMER_KEY is not set; the WooCommerce Store block needs it, "
            "or set WOOCOMMERCE_API_ENABLED=false to skip it",
        ),
        (
            {"STRIPE_ENABLED": "maybe", "STRIPE_SECRET_KEY": "sk_SECRET"},
            "STRIPE_ENABLED=maybe is not true or false; set STRIPE_ENABLED=true or STRIPE_ENABLED=false",
        ),
        (
            {
                "PAYPAL_CLIENT_ID": "c",
                "PAYPAL_CLIENT_SECRET": "SECRET",
                "PAYPAL_ENVIRONMENT": "live",
            },
            "PAYPAL_ENVIRONMENT=live is not one of sandbox, production",
        ),
        (
            {
                "TWILIO_ACCOUNT_SID": "AC1",
                "TWILIO_AUTH_TOKEN": "SECRET",
                "TWILIO_FROM_NUMBER": "555",
            },
            "TWILIO_FROM_NUMBER=555 is not an E.164 phone number; write it as + country code "
            "number, e.g. +15551234567",
        ),
        (
            {"SENDGRID_API_KEY": "SG.SECRET", "SENDGRID_FROM_EMAIL": "noreply"},
            "SENDGRID_FROM_EMAIL=noreply is not an email address; use e.g. noreply@yourcompany.com",
        ),
        (
            {"NXT_DATABASE_URL": "postgres://nxt:SECRET@db:notaport/nxt"},
            "NXT_DATABASE_URL (secret, not shown) is not a database URL; use e.g. "
            "postgresql+psycopg://user:password@host:5432/nxt or sqlite:////path/to/hub.db",
        ),
        (
            {
                "NXT_DATABASE_URL": "sqlite:///hub.db",
                "DB_POOL_MAX_CONNECTIONS": "5",
                "DB_POOL_MIN_CONNECTIONS": "10",
            },
            "Hub Database: DB_POOL_MIN_CONNECTIONS=10 is more than DB_POOL_MAX_CONNECTIONS=5; "
            "lower the minimum",
        ),
        (
            {"WEBHOOK_TIMEOUT": "15s"},
            "WEBHOOK_TIMEOUT=15s is not a whole number; write digits only, e.g. WEBHOOK_TIMEOUT=50",
        ),
        (
            {"STRIPE_SECRET_KEY": "sk_SECRET", "STRIPE_BASE_URL": "localhost:12111"},
            "STRIPE_BASE_URL=localhost:12111 is not an http(s) URL; give the full address, "
            "e.g. https://yourstore.com",
        ),
    ],
    ids=[
        "conflict-resolution",
        "site-url",
        "batch-size-not-number",
        "batch-size-too-large",
        "negative-retries",
        "bad-bool",
        "missing-required",
        "bad-enabled",
        "paypal-environment",
        "phone",
        "email",
        "database-url",
        "pool-min-over-max",
        "webhook-timeout",
        "stripe-base-url",
    ],
)
def test_each_bad_value_gives_one_line(env: dict[str, str], line: str) -> None:
    result = blocks_from_env(env)
    assert result.errors == [line]
    assert not result.ok
    assert SECRET_MARK not in line


def test_every_bad_value_is_reported_at_once() -> None:
    result = blocks_from_env(
        {
            **WOO,
            "WOOCOMMERCE_SITE_URL": "not a url",
            "WC_BATCH_SIZE": "abc",
            "WC_CONFLICT_RESOLUTION": "foo",
            "TWILIO_FROM_NUMBER": "555",
        }
    )
    assert len(result.errors) == 6  # 3 Woo values, Twilio's phone, SID and token
    assert all(SECRET_MARK not in line for line in result.errors)


def test_read_env_file_wins_over_environment(tmp_path: Path) -> None:
    path = tmp_path / "old.env"
    path.write_text("STRIPE_SECRET_KEY=from_file\n")
    merged = read_env(path, environ={"STRIPE_SECRET_KEY": "from_env", "TWILIO_ACCOUNT_SID": "AC1"})
    assert merged["STRIPE_SECRET_KEY"] == "from_file"
    assert merged["TWILIO_ACCOUNT_SID"] == "AC1"


def test_read_env_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EnvFileError, match="does not exist"):
        read_env(tmp_path / "nope.env", environ={})


def test_a_failed_save_removes_what_this_run_created(monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    import httpx

    from blocks.from_env import save_blocks

    result = blocks_from_env({**WOO, "STRIPE_SECRET_KEY": "sk_SECRET"})
    assert [p.service for p in result.blocks] == ["woocommerce", "stripe"]

    def broken_save(self: StripeGateway, *args: object, **kwargs: object) -> None:
        raise httpx.ConnectError("connection refused")

    monkeypatch.setattr(StripeGateway, "save", broken_save)
    name = f"half-{uuid.uuid4().hex[:8]}"
    with pytest.raises(httpx.ConnectError):
        save_blocks(result.blocks, name, overwrite=False)
    with pytest.raises(ValueError, match="Unable to find block document"):
        WooCommerceStore.load(name)


def test_square_location_id_may_list_several_locations() -> None:
    env = {"SQUARE_ACCESS_TOKEN": "SECRET_square", "SQUARE_LOCATION_ID": " L123 , L456,,L123 "}
    result = blocks_from_env(env)
    assert result.ok, result.errors
    (planned,) = result.blocks
    assert isinstance(planned.block, SquareGateway)
    assert planned.block.location_ids == ["L123", "L456"]


def test_square_location_id_that_is_not_an_id_is_one_clear_error() -> None:
    result = blocks_from_env({"SQUARE_ACCESS_TOKEN": "SECRET_square", "SQUARE_LOCATION_ID": "L1 23"})
    assert result.errors == ["SQUARE_LOCATION_ID=L1 23 is not a Square location ID (e.g. L88917AVBK2S5)"]
    assert result.blocks == []
