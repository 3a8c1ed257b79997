"""A delivery that repeats rows already landed: what the loader does when its COPY meets the table's unique key.

The spooled rows are replayed into the temp table `_incoming`, in delivery order. The first row of each key the
raw table lacks is inserted (the first delivery wins). Every other row is compared with the version kept — the
landed one, or the first of the same load — on its content (the payload, and any typed column outside the unique
key): the same content is a duplicate (counted in raw._loads), a different content is a conflict, which goes to
raw._quarantine with the key, both versions and the reason. Only this path does the extra work: a delivery of new
rows never comes here.
"""

from __future__ import annotations

import uuid
from typing import IO

import psycopg
from psycopg import sql

from ingestion.records import Target

#: The load metadata shown beside each version's content: what a person needs to tell the versions apart.
VERSION_COLUMNS = ["_load_id", "_logical_date", "_request"]


def unique_columns(conn: psycopg.Connection, target: Target) -> list[str]:
    """The columns of the raw table's unique key (a table's key columns may carry more, e.g. typeform's
    submitted_at), read from the catalog."""
    keys = conn.execute(
        "select array_agg(a.attname::text order by k.n) from pg_index i"
        " cross join unnest(i.indkey) with ordinality as k(attnum, n)"
        " join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum"
        " where i.indrelid = %s::regclass and i.indisunique group by i.indexrelid",
        (f"raw.{target.table}",),
    ).fetchall()
    if len(keys) != 1:
        raise RuntimeError(f"raw.{target.table} has {len(keys)} unique keys, the loader expects one")
    return keys[0][0]


def replay(
    conn: psycopg.Connection, target: Target, load_id: uuid.UUID, row_spool: IO[bytes], expected: int
) -> tuple[int, int]:
    """Replay the spooled rows (`expected` of them): insert the new ones, quarantine the conflicting ones. Returns
    (inserted, conflicts); the rest of the rows are duplicates."""
    _copy_incoming(conn, target, row_spool, expected)
    keys = unique_columns(conn, target)
    table = sql.Identifier("raw", target.table)
    same_key = sql.SQL(" and ").join(sql.SQL("t.{0} = i.{0}").format(sql.Identifier(k)) for k in keys)
    inserted = _insert_first_deliveries(conn, target, keys, same_key)
    content = [c for c in target.key_columns if c not in keys] + ["payload"]

    def columns_of(alias: str, names: list[str]) -> sql.Composable:
        return sql.SQL(", ").join(sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(n)) for n in names)

    def as_object(alias: str, names: list[str]) -> sql.Composable:
        return sql.SQL("jsonb_build_object({})").format(
            sql.SQL(", ").join(
                sql.SQL("{}, {}.{}").format(sql.Literal(n), sql.Identifier(alias), sql.Identifier(n)) for n in names
            )
        )

    described = sql.SQL(" || ', ' || ").join(
        sql.SQL("{} || ' ' || i.{}::text").format(sql.Literal(k), sql.Identifier(k)) for k in keys
    )
    conflicts = conn.execute(
        sql.SQL(
            "insert into raw._quarantine (load_id, source, entity, reason, record)"
            " select %(load_id)s, %(source)s, %(entity)s,"
            " 'conflicting duplicate: ' || {described} || ' is already in ' || %(table)s || ' (load '"
            " || t._load_id || ') with different content; the landed version is kept',"
            " jsonb_build_object('key', {key}, 'kept', {kept}, 'refused', {refused})::text"
            " from _incoming i join {table} t on {same_key}"
            " where i._seq not in (select _seq from _first) and ({content_t}) is distinct from ({content_i})"
            " order by i._seq on conflict do nothing"  # the same conflict refused before (raw_schema.sql)
        ).format(
            described=described,
            key=as_object("i", keys),
            kept=as_object("t", content + VERSION_COLUMNS),
            refused=as_object("i", content + VERSION_COLUMNS),
            table=table,
            same_key=same_key,
            content_t=columns_of("t", content),
            content_i=columns_of("i", content),
        ),
        {"load_id": load_id, "source": target.source, "entity": target.entity, "table": f"raw.{target.table}"},
    ).rowcount
    return inserted, conflicts


def _copy_incoming(conn: psycopg.Connection, target: Target, row_spool: IO[bytes], expected: int) -> None:
    """The spooled rows into the temp table `_incoming`, numbered (`_seq`) in delivery order."""
    columns = sql.SQL(", ").join(map(sql.Identifier, target.landed_columns))
    conn.execute(
        sql.SQL("create temp table _incoming on commit drop as select {columns} from {table} with no data").format(
            columns=columns, table=sql.Identifier("raw", target.table)
        )
    )
    conn.execute("alter table _incoming add column _seq bigint generated always as identity")
    row_spool.seek(0)
    with conn.cursor() as cursor:
        with cursor.copy(sql.SQL("copy _incoming ({columns}) from stdin").format(columns=columns)) as copy:
            while block := row_spool.read(1 << 16):
                copy.write(block)
        if cursor.rowcount != expected:
            raise RuntimeError(f"replayed {cursor.rowcount} rows of {expected} received: refusing a partial load")


def _insert_first_deliveries(
    conn: psycopg.Connection, target: Target, keys: list[str], same_key: sql.Composable
) -> int:
    """Insert the first row of each key the raw table lacks; their numbers stay in the temp table `_first`."""
    table = sql.Identifier("raw", target.table)
    columns = sql.SQL(", ").join(map(sql.Identifier, target.landed_columns))
    conn.execute(
        sql.SQL(
            "create temp table _first on commit drop as"
            " select distinct on ({keys}) _seq from _incoming i"
            " where not exists (select from {table} t where {same_key}) order by {keys}, _seq"
        ).format(keys=sql.SQL(", ").join(map(sql.Identifier, keys)), table=table, same_key=same_key)
    )
    return conn.execute(
        sql.SQL(
            "insert into {table} ({columns}) select {columns} from _incoming where _seq in (select _seq from _first)"
            " order by _seq"
        ).format(table=table, columns=columns)
    ).rowcount
