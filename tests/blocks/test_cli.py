"""`nxt blocks register | from-env | list` through the real command, against the test server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from blocks import StripeGateway, WooCommerceStore
from deployments.cli import app

GOOD = """\
WOOCOMMERCE_API_ENABLED=true
WOOCOMMERCE_SITE_URL=https://yourstore.com
WOOCOMMERCE_CONSUMER_KEY=ck_SECRET_cli_key
WOOCOMMERCE_CONSUMER_SECRET=cs_SECRET_cli_secret
WC_CONFLICT_RESOLUTION=manual
STRIPE_ENABLED=true
STRIPE_SECRET_KEY=sk_test_SECRET_cli
STRIPE_WEBHOOK_SECRET=whsec_SECRET_cli
PAYPAL_ENABLED=false
PAYPAL_CLIENT_ID=ignored
TWILIO_ACCOUNT_SID=AC99
TWILIO_AUTH_TOKEN=SECRET_cli_twilio
TWILIO_FROM_NUMBER=+15550001111
NXT_DATABASE_URL=postgresql+psycopg://nxt:SECRET_cli_pw@db:5432/nxt
WEBHOOK_SECRET_SHIPSTATION=SECRET_cli_ship
NODE_ENV=production
"""

pytestmark = pytest.mark.usefixtures("clean_environ")


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, ["blocks", *args])


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text)
    return path


def _name() -> str:
    return f"cli-{uuid.uuid4().hex[:8]}"


def test_register_registers_every_type() -> None:
    result = _run("register")
    assert result.exit_code == 0, result.output
    assert "registered WooCommerce Store (nxt-woocommerce-store)" in result.stdout
    assert result.stdout.count("registered ") == 10


def test_from_env_saves_lists_and_keeps_secrets_out(tmp_path: Path) -> None:
    name = _name()
    result = _run("from-env", "--env-file", str(_write(tmp_path, GOOD)), "--name", name)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"saved WooCommerce Store '{name}' (nxt-woocommerce-store)" in out
    assert f"saved Stripe Gateway '{name}' (nxt-stripe-gateway)" in out
    assert f"saved Twilio SMS Provider '{name}'" in out
    assert f"saved Hub Database '{name}'" in out
    assert f"saved Third-Party Webhook Secrets '{name}'" in out
    assert "skipped PayPal Gateway: PAYPAL_ENABLED=false" in out
    assert "skipped Square Gateway: not configured" in out
    assert "not used: NODE_ENV" in out
    assert "SECRET" not in result.output

    store = WooCommerceStore.load(name)
    assert store.conflict_resolution == "manual"
    assert store.consumer_secret.get_secret_value() == "cs_SECRET_cli_secret"

    listed = _run("list")
    assert listed.exit_code == 0, listed.output
    line = next(x for x in listed.stdout.splitlines() if x.startswith(f"WooCommerce Store  {name}"))
    assert "site_url=https://yourstore.com" in line and "conflict_resolution=manual" in line
    assert "consumer_key" not in line
    assert "SECRET" not in listed.output

    again = _run("from-env", "--env-file", str(_write(tmp_path, GOOD)), "--name", name)
    assert again.exit_code == 0, again.output
    assert f"kept WooCommerce Store '{name}': it already exists; rerun with --overwrite" in again.stdout

    changed = GOOD.replace("WC_CONFLICT_RESOLUTION=manual", "WC_CONFLICT_RESOLUTION=nxt_priority")
    replaced = _run("from-env", "--env-file", str(_write(tmp_path, changed)), "--name", name, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert f"replaced WooCommerce Store '{name}'" in replaced.stdout
    assert WooCommerceStore.load(name).conflict_resolution == "nxt_priority"


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("WC_CONFLICT_RESOLUTION=foo", "error: WC_CONFLICT_RESOLUTION=foo is not one of timestamp"),
        (
            "WOOCOMMERCE_SITE_URL=not a url",
            "error: WOOCOMMERCE_SITE_URL=not a url is not an http(s) URL",
        ),
        ("WC_BATCH_SIZE=abc", "error: WC_BATCH_SIZE=abc is not a whole number"),
        (
            "NXT_DATABASE_URL=postgres://u:SECRET_x@h:port/db",
            "error: NXT_DATABASE_URL (secret, not shown)",
        ),
    ],
    ids=["choice", "url", "number", "secret-url"],
)
def test_from_env_bad_value_saves_nothing(tmp_path: Path, line: str, fragment: str) -> None:
    name = _name()
    text = GOOD + line + "\n"
    result = _run("from-env", "--env-file", str(_write(tmp_path, text)), "--name", name)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [next(x for x in result.stderr.splitlines())]
    assert result.stderr.startswith(fragment)
    assert "Traceback" not in result.output and "SECRET" not in result.output
    assert result.stdout == ""
    # Nothing was written, not even the blocks whose values were fine.
    with pytest.raises(ValueError, match="Unable to find block document"):
        StripeGateway.load(name)


def test_from_env_several_bad_values_one_line_each(tmp_path: Path) -> None:
    text = GOOD + "WC_BATCH_SIZE=abc\nTWILIO_FROM_NUMBER=12\n"
    result = _run("from-env", "--env-file", str(_write(tmp_path, text)), "--name", _name())
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(x.startswith("error: ") for x in lines)


def test_from_env_missing_env_file(tmp_path: Path) -> None:
    result = _run("from-env", "--env-file", str(tmp_path / "missing.env"))
    assert result.exit_code == 2
    missing = tmp_path / "missing.env"
    assert result.stderr == f"error: --env-file {missing} does not exist; give the path of your .env file\n"


def test_from_env_with_nothing_configured(tmp_path: Path) -> None:
    result = _run("from-env", "--env-file", str(_write(tmp_path, "NODE_ENV=production\n")))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no service is configured in ")


def test_from_env_everything_disabled_is_fine(tmp_path: Path) -> None:
    text = "STRIPE_ENABLED=false\nSTRIPE_SECRET_KEY=sk_SECRET\n"
    result = _run("from-env", "--env-file", str(_write(tmp_path, text)), "--name", _name())
    assert result.exit_code == 0, result.output
    assert "skipped Stripe Gateway: STRIPE_ENABLED=false" in result.stdout
    assert "nothing to save" in result.stdout


def test_unreachable_prefect_api_is_one_line(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    dead = {PREFECT_API_URL: "http://127.0.0.1:9/api", PREFECT_CLIENT_MAX_RETRIES: 0}
    with temporary_settings(updates=dead):
        for args in (
            ["register"],
            ["list"],
            ["from-env", "--env-file", str(_write(tmp_path, GOOD))],
        ):
            result = _run(*args)
            assert result.exit_code == 2, (args, result.output)
            assert result.stderr.startswith(
                "error: cannot reach the Prefect API at PREFECT_API_URL=http://127.0.0.1:9/api"
            )
            assert "prefect server start" in result.stderr
            assert len(result.stderr.splitlines()) == 1
            assert "SECRET" not in result.output
