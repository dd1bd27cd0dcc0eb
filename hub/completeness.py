"""Which records a listing's confirmation must fetch: what the store lists that the hub lacks or has older.

A confirmation lists the ids and modification times of a whole listing window (see `tasks.pull`); this
compares them with the hub. A record quarantined with the same modification time is not asked for again:
it would only be quarantined again (it comes back when it changes in the store).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.models import MIRROR_TABLES, SyncQuarantine
from hub.records import MalformedRecord, parse_gmt

_IN = 500


def stale_ids(conn: Connection, store: str, resource: str, listed: Mapping[int, str | None]) -> list[int]:
    """Ids in `listed` ({id: date_modified_gmt as the store sent it}) the hub lacks, has tombstoned, or has
    in an older version, minus those quarantined in that very version."""
    table = MIRROR_TABLES[resource].__table__
    quarantine = SyncQuarantine.__table__
    ids = list(listed)
    hub: dict[int, tuple[datetime | None, bool]] = {}
    refused: dict[int, set[str | None]] = {}
    for start in range(0, len(ids), _IN):
        chunk = ids[start : start + _IN]
        for rid, modified, deleted in conn.execute(
            sa.select(table.c.remote_id, table.c.date_modified_gmt, table.c.deleted_at).where(
                table.c.store == store, table.c.remote_id.in_(chunk)
            )
        ):
            hub[int(rid)] = (modified, deleted is not None)
        for rid, payload in conn.execute(
            sa.select(quarantine.c.remote_id, quarantine.c.payload).where(
                quarantine.c.store == store,
                quarantine.c.resource == resource,
                quarantine.c.remote_id.in_([str(i) for i in chunk]),
            )
        ):
            if rid is not None and rid.isdigit() and isinstance(payload, dict):
                refused.setdefault(int(rid), set()).add(payload.get("date_modified_gmt"))
    out = []
    for rid, text in listed.items():
        if text in refused.get(rid, ()):
            continue
        known = hub.get(rid)
        if known is None or known[1]:
            out.append(rid)
            continue
        with contextlib.suppress(MalformedRecord):  # an unreadable date: the record itself says why
            remote = parse_gmt(text, "date_modified_gmt")
            if remote is not None and (known[0] is None or remote > known[0]):
                out.append(rid)
    return sorted(out)
