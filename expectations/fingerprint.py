"""A cheap fingerprint of the relations of a schema: what binds a publish to the exact build its audit read.

The audit records the fingerprint of the schema it audited, taken before it reads anything; publish recomputes it
and refuses when it differs (`expectations.publish`). Per relation (table, partitioned table, view, materialised
view): its oid, its relfilenode and a digest of its columns (names and types) — catalog reads only, no table scan,
whatever the size.

What it catches: a relation replaced (dbt's table materialisation builds a new table and renames it over the old
one: a new oid — so does any drop and create), rewritten (truncate, `vacuum full`, `cluster`, a refreshed
materialised view, a column type change: a new relfilenode), a column added, dropped or renamed, and a relation
added to or removed from the schema. Renaming the schema keeps every oid: the fingerprint follows the relations, not
the schema's name.

What it does not catch: rows changed in place (`insert`, `update`, `delete` into an audited table keep its oid and
relfilenode), a view redefined with the same columns by `create or replace view`, and anything done inside a
relation's own file. Only the pipeline's role (the owner) can write to the release schemas — `bi_reader` cannot —
and the transform lease keeps the pipeline's own builds from running between an audit and its publish.
"""

from __future__ import annotations

import psycopg

_FINGERPRINT = """
select c.relname, c.oid::bigint, c.relfilenode::bigint,
    md5(coalesce(string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ',' order by a.attnum), ''))
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm')
group by c.relname, c.oid, c.relfilenode
order by c.relname
"""


def fingerprint(conn: psycopg.Connection, schema: str) -> dict[str, list]:
    """relation name → [oid, relfilenode, columns digest] for every relation `publish` would expose in `schema`."""
    return {name: [oid, filenode, columns] for name, oid, filenode, columns in conn.execute(_FINGERPRINT, (schema,))}


def differences(recorded: dict[str, list], now: dict[str, list]) -> list[str]:
    """What changed between two fingerprints of one schema, one phrase per relation (empty: nothing did)."""
    changes = [f"{name} added" for name in sorted(now.keys() - recorded.keys())]
    changes += [f"{name} removed" for name in sorted(recorded.keys() - now.keys())]
    for name in sorted(recorded.keys() & now.keys()):
        (old_oid, old_file, old_columns), (oid, file, columns) = recorded[name], now[name]
        if old_oid != oid:
            changes.append(f"{name} replaced")
        elif old_file != file:
            changes.append(f"{name} rewritten")
        elif old_columns != columns:
            changes.append(f"{name} columns changed")
    return changes
