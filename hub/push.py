"""Push decisions: which hub rows go to the store, what is sent for each, and what the store's answer changes.

A push of one batch (one endpoint: products, one product's variations, customers or orders) goes:

1. `dirty_batches` groups the rows with unpushed edits by endpoint; `load_rows` reads one batch.
2. The caller reads what the store has now (`include=` of the batch's remote ids) and, for rows created in
   the hub whose earlier create may have reached the store, looks for them (`adoption_lookups`, then
   `match_adoptions`: a record carrying this row's `nxt_hub_id` meta is this row).
3. `plan_push` decides, without I/O: update, delete, create, adopt (an earlier create did reach the store),
   take the store's version (the conflict strategy says the store wins), open a conflict (`manual`), or
   an error for the row.
4. `prepare_push` commits what is known before sending: the store's winning versions, conflicts, errors,
   adoptions, and the create stamps (`create_attempted_at`) that make a resend look before it creates.
5. The caller sends the batch; `apply_push_result` writes the store's answers (new remote ids, the mirror
   version, tombstones) and per-item errors in ONE transaction.

Nothing doubled: a crash after the store created a record and before step 5 committed leaves the stamp;
the next push finds the record by SKU (products), email (customers) or by the records created since the
stamp minus `ADOPT_MARGIN`, matched on the `nxt_hub_id` meta sent with the create, and adopts it instead
of creating it again. The meta key has no leading underscore: WooCommerce (9.5.2 on) neither writes nor
returns "protected" `_` user meta through REST, so an `_` key would be lost on customers.

No Prefect and no HTTP here: the push task does the requests and calls these functions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hub.db import transaction
from hub.edits import DELETE, open_conflict, open_conflict_ids, winner
from hub.models import MIRROR_TABLES, utcnow
from hub.records import MalformedRecord, mirror_row, order_rows, parse_gmt, product_row
from hub.upserts import replace_order_children, tombstone, upsert_mirror

PUSH_RESOURCES = ("products", "customers", "orders")
HUB_ID_META_KEY = "nxt_hub_id"
# How far before a create stamp to look for the record it may have created: covers the clock difference
# between this host and the store (WooCommerce dates its records with its own clock).
ADOPT_MARGIN = timedelta(hours=1)
ADOPT_MAX_PAGES = 20  # pages of 100 read per lookup before giving up and creating again
BATCH_MAX = 100  # WooCommerce's batch endpoints take at most 100 items per request
_MIRROR_ONLY = ("remote_id", "data", "content_hash", "date_modified_gmt")


@dataclass(frozen=True)
class PushRow:
    """What the push needs of one dirty hub row."""

    id: int  # the hub row id
    remote_id: int | None  # None: created in the hub, not in the store yet
    parent_remote_id: int | None
    data: dict[str, Any]
    local_changes: dict[str, Any]
    date_modified_gmt: datetime | None
    local_modified_at: datetime | None
    create_attempted_at: datetime | None
    sku: str | None = None
    email: str | None = None

    @classmethod
    def of(cls, row: Any) -> PushRow:
        m = row._mapping
        return cls(
            id=m["id"],
            remote_id=m["remote_id"],
            parent_remote_id=m.get("parent_remote_id"),
            data=m["data"] or {},
            local_changes=m["local_changes"] or {},
            date_modified_gmt=m["date_modified_gmt"],
            local_modified_at=m["local_modified_at"],
            create_attempted_at=m["create_attempted_at"],
            sku=m.get("sku"),
            email=m.get("email"),
        )


@dataclass
class PushPlan:
    """What one push batch does. Every per-row outcome is keyed by the hub row id."""

    resource: str
    path: str
    rows: dict[int, PushRow] = field(default_factory=dict)
    create: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (row id, payload)
    update: list[dict[str, Any]] = field(default_factory=list)  # {"id": remote id, **changes}
    delete: list[int] = field(default_factory=list)  # remote ids
    take_remote: list[dict[str, Any]] = field(default_factory=list)  # mirror rows of winning store versions
    adopt: dict[int, dict[str, Any]] = field(default_factory=dict)  # row id -> record already in the store
    conflicts: list[tuple[PushRow, dict[str, Any], datetime | None]] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def sends(self) -> bool:
        """True when the batch has anything to send to the store."""
        return bool(self.create or self.update or self.delete)

    def batch_arguments(self) -> dict[str, Any]:
        """Keyword arguments of `WooCommerceClient.batch`."""
        return {
            "create": [payload for _, payload in self.create],
            "update": self.update,
            "delete": self.delete,
        }


def endpoint(resource: str, parent_remote_id: int | None = None) -> str:
    """The collection path of a resource (a product's variations have their own)."""
    if resource == "products" and parent_remote_id:
        return f"products/{parent_remote_id}/variations"
    return resource


def dirty_batches(bind: Engine | Connection, store: str, resource: str, size: int) -> list[list[int]]:
    """Hub row ids with unpushed edits or creates (and no open conflict), in batches of at most `size`
    (at most 100) that share one endpoint."""
    if resource not in PUSH_RESOURCES:
        raise ValueError(f"resource must be one of {', '.join(PUSH_RESOURCES)}, not {resource!r}")
    table = MIRROR_TABLES[resource].__table__
    columns = [table.c.id, table.c.remote_id] + ([table.c.parent_remote_id] if resource == "products" else [])
    with transaction(bind) as conn:
        held = open_conflict_ids(conn, resource, store)
        rows = conn.execute(
            sa.select(*columns)
            .where(table.c.store == store, table.c.dirty.is_(True), table.c.deleted_at.is_(None))
            .order_by(table.c.remote_id.is_(None), table.c.remote_id, table.c.id)
        ).all()
    groups: dict[int | None, list[int]] = {}
    for row in rows:
        if row.remote_id is not None and row.remote_id in held:
            continue
        parent = row.parent_remote_id if resource == "products" else None
        groups.setdefault(parent, []).append(row.id)
    size = max(1, min(size, BATCH_MAX))
    return [ids[i : i + size] for ids in groups.values() for i in range(0, len(ids), size)]


def load_rows(bind: Engine | Connection, store: str, resource: str, row_ids: Sequence[int]) -> list[PushRow]:
    """The batch's rows that are still dirty (a row pushed meanwhile is left out)."""
    table = MIRROR_TABLES[resource].__table__
    with transaction(bind) as conn:
        rows = conn.execute(
            sa.select(table)
            .where(table.c.store == store, table.c.id.in_(list(row_ids)), table.c.dirty.is_(True))
            .order_by(table.c.id)
        ).all()
    return [PushRow.of(r) for r in rows]


def current_params(resource: str, rows: Iterable[PushRow]) -> dict[str, Any] | None:
    """Query parameters that read the store's current version of the batch's records, or None when the
    batch has none in the store yet."""
    ids = [r.remote_id for r in rows if r.remote_id is not None]
    if not ids:
        return None
    params: dict[str, Any] = {"include": ",".join(map(str, ids))}
    if resource == "orders":
        params["status"] = "any"
    return params


def adoption_lookups(resource: str, rows: Iterable[PushRow]) -> list[dict[str, Any]]:
    """Queries (list parameters for the batch's endpoint) that find records an earlier, interrupted
    create of these rows may have made. Empty when no row has a create stamp."""
    stamped = [r for r in rows if r.remote_id is None and r.create_attempted_at is not None]
    queries: list[dict[str, Any]] = []
    scan: list[PushRow] = []
    if resource == "products":
        skus = sorted({r.sku for r in stamped if r.sku and "," not in r.sku})
        if skus:
            queries.append({"sku": ",".join(skus)})
        scan = [r for r in stamped if not r.sku or "," in r.sku]
    elif resource == "customers":
        for r in stamped:
            if r.email:
                queries.append({"email": r.email, "role": "all"})
            else:
                scan.append(r)
    else:
        scan = stamped
    if scan and resource == "customers":
        queries.append({"orderby": "id", "order": "desc", "role": "all"})  # no `after` filter on customers
    elif scan:
        since = min(r.create_attempted_at for r in scan if r.create_attempted_at) - ADOPT_MARGIN
        queries.append(
            {
                "after": since.strftime("%Y-%m-%dT%H:%M:%S"),
                "dates_are_gmt": "true",
                "orderby": "date",
                "order": "asc",
            }
        )
    return queries


def match_adoptions(store: str, rows: Iterable[PushRow], found: Iterable[Any]) -> dict[int, dict[str, Any]]:
    """Records in `found` that carry a row's `nxt_hub_id` meta: row id -> record (the lowest id wins)."""
    wanted = {hub_ref(store, r.id): r.id for r in rows if r.remote_id is None}
    adopted: dict[int, dict[str, Any]] = {}
    for obj in sorted((o for o in found if isinstance(o, dict)), key=lambda o: _int(o.get("id"))):
        row_id = wanted.get(_hub_ref_of(obj) or "")
        if row_id is not None and row_id not in adopted and _int(obj.get("id")) > 0:
            adopted[row_id] = obj
    return adopted


def hub_ref(store: str, row_id: int) -> str:
    """The `nxt_hub_id` meta value that names a hub row in the store."""
    return f"{store}:{row_id}"


def plan_push(
    rows: Sequence[PushRow],
    remote_now: Mapping[int, Any],
    strategy: str,
    *,
    resource: str,
    store: str,
    adopted: Mapping[int, dict[str, Any]] | None = None,
) -> PushPlan:
    """Decide what each row of one batch does. Pure: no I/O.

    Args:
        rows: the batch (one endpoint).
        remote_now: the store's current version of the batch's records, by remote id.
        strategy: the store's conflict strategy (`hub.edits.STRATEGIES`).
        resource: products, customers or orders.
        store: the store name (it goes into the `nxt_hub_id` meta of creates).
        adopted: records found in the store for rows with a create stamp, by hub row id.
    """
    plan = PushPlan(resource=resource, path=endpoint(resource, rows[0].parent_remote_id if rows else None))
    adopted = adopted or {}
    for row in rows:
        plan.rows[row.id] = row
        changes = row.local_changes
        if row.remote_id is None:
            if row.id in adopted:
                plan.adopt[row.id] = adopted[row.id]
            else:
                plan.create.append((row.id, create_payload(store, row.id, changes)))
            continue
        remote = remote_now.get(row.remote_id)
        if not isinstance(remote, dict):
            plan.errors[row.id] = "not found in the store (deleted or trashed there); pull to refresh"
            continue
        try:
            remote_modified = parse_gmt(remote.get("date_modified_gmt"), "date_modified_gmt")
        except MalformedRecord as exc:
            plan.errors[row.id] = f"store answered a malformed record: {exc}"
            continue
        changed_there = (
            remote_modified is not None
            and row.date_modified_gmt is not None
            and remote_modified > row.date_modified_gmt
        )
        if changed_there:
            side = winner(strategy, row.local_modified_at, remote_modified)
            plan.counts["conflicts"] += 1
            if side == "wc":
                try:
                    plan.take_remote.append(_mirror(resource, remote, row))
                except MalformedRecord as exc:
                    plan.errors[row.id] = f"store answered a malformed record: {exc}"
                continue
            if side is None:
                plan.conflicts.append((row, remote, remote_modified))
                plan.counts["conflicts_manual"] += 1
                continue
        if changes.get(DELETE):
            plan.delete.append(row.remote_id)
        else:
            plan.update.append({"id": row.remote_id, **changes})
    plan.counts["errors"] += len(plan.errors)
    plan.counts["adopted"] += len(plan.adopt)
    return plan


def create_payload(store: str, row_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
    """What a create sends: the row's fields plus the `nxt_hub_id` meta that lets a later push find it."""
    meta = [
        m
        for m in (fields.get("meta_data") or [])
        if not (isinstance(m, dict) and m.get("key") == HUB_ID_META_KEY)
    ]
    return {**fields, "meta_data": [*meta, {"key": HUB_ID_META_KEY, "value": hub_ref(store, row_id)}]}


def prepare_push(bind: Engine | Connection, store: str, plan: PushPlan) -> None:
    """Commit what is decided before sending, in one transaction: the store's winning versions, conflicts,
    errors, adopted creates, and the stamps of the rows about to be created."""
    table = MIRROR_TABLES[plan.resource].__table__
    with transaction(bind) as conn:
        if plan.take_remote:
            upsert_mirror(conn, plan.resource, store, plan.take_remote, overwrite_dirty=True)
        for row, remote, remote_modified in plan.conflicts:
            open_conflict(conn, plan.resource, store, row, remote, remote_modified)
        for row_id, obj in plan.adopt.items():
            _bind_created(conn, plan, store, row_id, obj)
        _record_errors(conn, table, plan.errors)
        if plan.create:
            conn.execute(
                sa.update(table)
                .where(table.c.id.in_([row_id for row_id, _ in plan.create]))
                .values(create_attempted_at=utcnow())
            )


def apply_push_result(
    bind: Engine | Connection, store: str, plan: PushPlan, result: Any | None
) -> Counter[str]:
    """Write the store's answer to a sent batch in ONE transaction and return the batch's counts.

    `result` is the client's `BatchResult` (`created` in input order, `updated`, `deleted`, and `errors`
    with `op` and `index`), or None when nothing was sent.
    """
    counts = Counter(plan.counts)
    if result is None:
        return counts
    table = MIRROR_TABLES[plan.resource].__table__
    errors: dict[int, str] = {}
    failed_creates: dict[int, bool] = {}  # row id -> whether the store certainly did not create it
    failed = {(e.get("op"), e.get("index")) for e in result.errors}
    for e in result.errors:
        row_id = _row_of_error(plan, e)
        if row_id is None:
            continue
        errors[row_id] = f"{e.get('code')}: {e.get('message')}"
        if e.get("op") == "create":
            failed_creates[row_id] = e.get("code") != "nxt_no_answer"
    created = _created_by_row(store, plan, result.created, failed)
    with transaction(bind) as conn:
        for row_id, obj in created.items():
            _bind_created(conn, plan, store, row_id, obj)
        good = []
        for obj in result.updated:
            try:
                good.append(mirror_row(plan.resource, obj))
            except MalformedRecord as exc:
                rid = obj.get("id") if isinstance(obj, dict) else None
                row_id = next((r.id for r in plan.rows.values() if r.remote_id == rid), None)
                if row_id is not None:
                    errors[row_id] = f"pushed, but the store's answer cannot be mirrored: {exc}"
                    conn.execute(
                        sa.update(table).where(table.c.id == row_id).values(dirty=False, local_changes=None)
                    )
        if good:
            upsert_mirror(conn, plan.resource, store, good, overwrite_dirty=True)
        deleted = [o["id"] for o in result.deleted if isinstance(o, dict) and isinstance(o.get("id"), int)]
        if deleted:
            conn.execute(
                sa.update(table)
                .where(table.c.store == store, table.c.remote_id.in_(deleted))
                .values(dirty=False, local_changes=None, push_error=None)
            )
            tombstone(conn, plan.resource, store, deleted)
        _record_errors(conn, table, errors)
        sure = [row_id for row_id, certain in failed_creates.items() if certain]
        if sure:  # the store answered with an error: it did not create them, nothing to look for
            conn.execute(sa.update(table).where(table.c.id.in_(sure)).values(create_attempted_at=None))
    counts["pushed"] += len(good) + len(deleted) + len(created)
    counts["created"] += len(created)
    counts["errors"] += len(errors)
    return counts


def _created_by_row(
    store: str, plan: PushPlan, created: Sequence[Any], failed: set[tuple[Any, Any]]
) -> dict[int, dict[str, Any]]:
    """Match created records to their rows: by the `nxt_hub_id` meta they carry, else by input order
    (the client lists successes in input order, failed items left out)."""
    by_ref = {hub_ref(store, row_id): row_id for row_id, _ in plan.create}
    in_order = [row_id for index, (row_id, _) in enumerate(plan.create) if ("create", index) not in failed]
    out: dict[int, dict[str, Any]] = {}
    for position, obj in enumerate(created):
        if not isinstance(obj, dict):
            continue
        row_id = by_ref.get(_hub_ref_of(obj) or "")
        if row_id is None and position < len(in_order):
            row_id = in_order[position]
        if row_id is not None:
            out[row_id] = obj
    return out


def _row_of_error(plan: PushPlan, error: Mapping[str, Any]) -> int | None:
    op, index = error.get("op"), error.get("index")
    if not isinstance(index, int) or index < 0:
        return None
    if op == "create" and index < len(plan.create):
        return plan.create[index][0]
    remote_id: Any = None
    if op == "update" and index < len(plan.update):
        remote_id = plan.update[index].get("id")
    elif op == "delete" and index < len(plan.delete):
        remote_id = plan.delete[index]
    return next((r.id for r in plan.rows.values() if r.remote_id == remote_id), None)


def _bind_created(conn: Connection, plan: PushPlan, store: str, row_id: int, obj: dict[str, Any]) -> None:
    """Make hub row `row_id` the mirror of `obj`, the record the store created for it."""
    table = MIRROR_TABLES[plan.resource].__table__
    row = plan.rows[row_id]
    try:
        if plan.resource == "orders":
            parsed = order_rows(obj)
            mirrored, items, refunds = parsed.order, parsed.line_items, parsed.refunds
        else:
            mirrored, items, refunds = _mirror(plan.resource, obj, row), [], []
    except MalformedRecord as exc:
        # The record exists in the store: keep its id (so it is never created again) and say why the
        # hub could not take the rest.
        rid = _int(obj.get("id"))
        conn.execute(
            sa.update(table)
            .where(table.c.id == row_id)
            .values(
                remote_id=rid if rid > 0 else None,
                create_attempted_at=None if rid > 0 else row.create_attempted_at,
                push_error=f"created in the store as {rid}, but its answer cannot be mirrored: {exc}",
            )
        )
        return
    rid = mirrored["remote_id"]
    # A pull may have mirrored the new record before this row learned its id: that copy gives way.
    conn.execute(
        sa.delete(table).where(table.c.store == store, table.c.remote_id == rid, table.c.id != row_id)
    )
    typed = {k: v for k, v in mirrored.items() if k not in _MIRROR_ONLY}
    conn.execute(
        sa.update(table)
        .where(table.c.id == row_id)
        .values(
            **typed,
            remote_id=rid,
            data=mirrored["data"],
            content_hash=mirrored["content_hash"],
            date_modified_gmt=mirrored["date_modified_gmt"],
            synced_at=utcnow(),
            deleted_at=None,
            dirty=False,
            local_changes=None,
            push_error=None,
            create_attempted_at=None,
        )
    )
    if plan.resource == "orders":
        replace_order_children(conn, store, [rid], items, refunds)


def _mirror(resource: str, obj: dict[str, Any], row: PushRow) -> dict[str, Any]:
    if resource == "products" and row.parent_remote_id:
        return product_row(obj, parent_id=row.parent_remote_id)
    return mirror_row(resource, obj)


def _record_errors(conn: Connection, table: sa.Table, errors: Mapping[int, str]) -> None:
    for row_id, message in errors.items():
        conn.execute(sa.update(table).where(table.c.id == row_id).values(push_error=message[:2000]))


def _hub_ref_of(obj: Mapping[str, Any]) -> str | None:
    meta = obj.get("meta_data")
    if not isinstance(meta, list):
        return None
    for m in meta:
        if isinstance(m, dict) and m.get("key") == HUB_ID_META_KEY and isinstance(m.get("value"), str):
            return str(m["value"])
    return None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
