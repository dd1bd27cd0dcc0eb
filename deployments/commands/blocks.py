"""`nxt blocks`: register our block types, create blocks from the old service's .env, list them.

Secret values are never printed: output names variables and non-secret fields only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deployments.errors import NxtTyper, fail

if TYPE_CHECKING:
    from blocks.from_env import FromEnvResult

app = NxtTyper(
    help="Prefect blocks: register their types, create them from a .env file, list them.",
    no_args_is_help=True,
)


def _require_api() -> None:
    """Fail with one line when the Prefect API does not answer (a temporary server is started if none)."""
    from deployments.prefect_api import ensure_api

    ensure_api(lambda line: typer.echo(line, err=True))


@app.command()
def register() -> None:
    """Register every NXT block type (and its schema) with the Prefect API."""
    from blocks import BLOCK_TYPES

    _require_api()
    for cls in BLOCK_TYPES:
        cls.register_type_and_schema()
        typer.echo(f"registered {cls.get_block_type_name()} ({cls.get_block_type_slug()})")


@app.command("from-env")
def from_env(
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env-file",
            help="The old service's .env file (default: ./.env when it exists). Its values win "
            "over the environment's.",
        ),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Name to save every block under.")] = "default",
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite/--no-overwrite", help="Replace blocks that already have this name."),
    ] = False,
) -> None:
    """Create blocks from the old service's environment variables (e.g. WOOCOMMERCE_SITE_URL).

    Everything is validated before anything is saved; each bad value gets one `error:` line.
    """
    from blocks.from_env import EnvFileError, blocks_from_env, read_env, save_blocks

    if env_file is None and Path(".env").is_file():
        env_file = Path(".env")
    try:
        env = read_env(env_file)
    except EnvFileError as exc:
        fail(str(exc))
    result = blocks_from_env(env)
    if result.errors:
        for line in result.errors[:-1]:
            typer.echo(f"error: {line}", err=True)
        fail(result.errors[-1])
    _print_notes(result)
    if not result.blocks:
        if any(s.disabled for s in result.skipped):
            typer.echo("nothing to save: every configured service is disabled")
            return
        source = str(env_file) if env_file else "the environment"
        fail(
            f"no service is configured in {source}; set e.g. WOOCOMMERCE_SITE_URL, "
            "WOOCOMMERCE_CONSUMER_KEY and WOOCOMMERCE_CONSUMER_SECRET, or pass --env-file PATH"
        )
    _require_api()
    outcomes = save_blocks(result.blocks, name, overwrite=overwrite)
    for outcome in outcomes:
        label = f"{outcome.block_type} '{outcome.name}'"
        if outcome.status == "exists":
            typer.echo(f"kept {label}: it already exists; rerun with --overwrite to replace it")
        else:
            verb = "replaced" if outcome.status == "overwritten" else "saved"
            typer.echo(f"{verb} {label} ({outcome.slug})")


def _print_notes(result: FromEnvResult) -> None:
    for skipped in result.skipped:
        typer.echo(f"skipped {skipped.block_type}: {skipped.reason}")
    for variable, why in result.not_used:
        typer.echo(f"not used: {variable} ({why})")
    for variable in result.unknown:
        typer.echo(f"ignored: {variable} is not a setting nxt knows; check its spelling")


@app.command("list")
def list_blocks() -> None:
    """List saved NXT blocks: type, name and non-secret fields."""
    from prefect.client.orchestration import get_client

    from blocks import BLOCK_TYPES

    _require_api()
    found = 0
    with get_client(sync_client=True) as client:
        registered = {block_type.slug for block_type in client.read_block_types()}
        for cls in BLOCK_TYPES:
            if cls.get_block_type_slug() not in registered:
                continue
            documents = client.read_block_documents_by_type(cls.get_block_type_slug(), include_secrets=False)
            secret = {f.split(".")[0] for f in cls.model_json_schema().get("secret_fields", [])}
            for document in documents:
                if document.is_anonymous:
                    continue
                found += 1
                shown = " ".join(
                    f"{key}={_show(value)}"
                    for key, value in document.data.items()
                    if key not in secret and value is not None
                )
                typer.echo(f"{cls.get_block_type_name()}  {document.name}  {shown}".rstrip())
    if not found:
        typer.echo("no NXT blocks yet; create them with `nxt blocks from-env` or in the Prefect UI")


def _show(value: Any) -> str:
    text = str(value)
    return repr(text) if " " in text else text
