"""The shared loader: lands one entity's extraction in `raw` in ONE transaction.

Records stream page by page through psycopg's COPY into a temp table (valid rows and quarantined records side by
side), then one `insert … on conflict do nothing` keeps what is new; quarantined records go to raw._quarantine, the
state the extraction reached to raw._ingestion_state, and the counts to raw._loads — all committed together, so
rows and the state that covers them never disagree. The load's raw._loads row is first committed as `running` (a
load killed mid-way stays visible as such); a failed load rolls back and is marked `failed`, with the redacted
error, in its own transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

import orjson
import psycopg
from psycopg import sql
from psycopg.types.json import set_json_loads

from ingestion.http import redact
from ingestion.records import Extraction, Quarantined, Row, Target, as_json_text

log = logging.getLogger(__name__)

RAW_SCHEMA_SQL = resources.files("ingestion").joinpath("raw_schema.sql").read_text()
#: Advisory lock key serialising schema creation: concurrent `create … if not exists` can collide in the catalog.
SCHEMA_LOCK_KEY = 0x7368617265  # "share"
METADATA_COLUMNS = ("payload", "_load_id", "_extracted_at", "_logical_date", "_request")


@dataclass(frozen=True)
class LoadReport:
    source: str
    entity: str
    load_id: str
    rows_received: int
    rows_inserted: int
    rows_duplicate: int
    rows_quarantined: int
    api_calls: int


def apply_raw_schema(conn: psycopg.Connection) -> None:
    """Create the raw schema and tables if missing (idempotent)."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        conn.execute(RAW_SCHEMA_SQL)


def land(
    warehouse_url: str,
    target: Target,
    logical_date: date,
    extract: Callable[[dict[str, Any] | None], Extraction],
    *,
    secrets: Iterable[str] = (),
) -> LoadReport:
    """Run `extract(previous_state)` and land its records; `secrets` are scrubbed from the recorded error."""
    load_id = uuid.uuid4()
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        set_json_loads(orjson.loads, conn)
        apply_raw_schema(conn)
        conn.execute(
            "insert into raw._loads (load_id, source, entity, logical_date, started_at, status)"
            " values (%s, %s, %s, %s, clock_timestamp(), 'running')",
            (load_id, target.source, target.entity, logical_date),
        )
        extraction = None
        try:
            with conn.transaction():
                conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"{target.source}.{target.entity}",))
                extraction = extract(_read_state(conn, target))
                received = _stage(conn, target, load_id, logical_date, extraction.records())
                inserted = _insert_new_rows(conn, target)
                quarantined = _quarantine(conn, target, load_id)
                _save_state(conn, target, load_id, extraction.state())
                report = LoadReport(
                    source=target.source,
                    entity=target.entity,
                    load_id=str(load_id),
                    rows_received=received,
                    rows_inserted=inserted,
                    rows_duplicate=received - inserted - quarantined,
                    rows_quarantined=quarantined,
                    api_calls=extraction.api_calls,
                )
                _record_success(conn, report)
        except Exception as error:
            api_calls = extraction.api_calls if extraction is not None else 0
            _record_failure(warehouse_url, target, logical_date, load_id, error, secrets, api_calls)
            raise
    return report


def _read_state(conn: psycopg.Connection, target: Target) -> dict[str, Any] | None:
    row = conn.execute(
        "select state from raw._ingestion_state where source = %s and entity = %s", (target.source, target.entity)
    ).fetchone()
    return row[0] if row else None


def _landed_columns(target: Target) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, (*target.key_columns, *METADATA_COLUMNS)))


def _stage(
    conn: psycopg.Connection,
    target: Target,
    load_id: uuid.UUID,
    logical_date: date,
    records: Iterator[Row | Quarantined],
) -> int:
    """COPY the stream into the temp table `_incoming`, one row at a time; returns how many records came in."""
    columns = _landed_columns(target)
    conn.execute(
        sql.SQL(
            "create temp table _incoming on commit drop as select null::text as quarantine_reason,"
            " null::text as quarantine_record, {columns} from {table} with no data"
        ).format(columns=columns, table=sql.Identifier("raw", target.table))
    )
    no_row = (None,) * (len(target.key_columns) + len(METADATA_COLUMNS))
    received = 0
    copy_sql = sql.SQL("copy _incoming (quarantine_reason, quarantine_record, {columns}) from stdin")
    with conn.cursor() as cursor, cursor.copy(copy_sql.format(columns=columns)) as copy:
        for record in records:
            if isinstance(record, Row):
                payload = as_json_text(record.payload)
                copy.write_row(
                    (None, None, *record.keys, payload, load_id, record.extracted_at, logical_date, record.request)
                )
            else:
                copy.write_row((record.reason, record.record, *no_row))
            received += 1
    return received


def _insert_new_rows(conn: psycopg.Connection, target: Target) -> int:
    """Keep what is new: the table's unique key makes a redelivered record a no-op (the first delivery wins)."""
    columns = _landed_columns(target)
    cursor = conn.execute(
        sql.SQL(
            "insert into {table} ({columns}) select {columns} from _incoming"
            " where quarantine_reason is null on conflict do nothing"
        ).format(table=sql.Identifier("raw", target.table), columns=columns)
    )
    return cursor.rowcount


def _quarantine(conn: psycopg.Connection, target: Target, load_id: uuid.UUID) -> int:
    cursor = conn.execute(
        "insert into raw._quarantine (load_id, source, entity, reason, record)"
        " select %s, %s, %s, quarantine_reason, quarantine_record from _incoming where quarantine_reason is not null",
        (load_id, target.source, target.entity),
    )
    return cursor.rowcount


def _save_state(conn: psycopg.Connection, target: Target, load_id: uuid.UUID, state: dict[str, Any]) -> None:
    conn.execute(
        "insert into raw._ingestion_state (source, entity, state, load_id, updated_at)"
        " values (%s, %s, %s::jsonb, %s, clock_timestamp())"
        " on conflict (source, entity) do update"
        " set state = excluded.state, load_id = excluded.load_id, updated_at = excluded.updated_at",
        (target.source, target.entity, as_json_text(state), load_id),
    )


def _record_success(conn: psycopg.Connection, report: LoadReport) -> None:
    conn.execute(
        "update raw._loads set status = 'success', finished_at = clock_timestamp(), rows_received = %s,"
        " rows_inserted = %s, rows_duplicate = %s, rows_quarantined = %s, api_calls = %s where load_id = %s",
        (
            report.rows_received,
            report.rows_inserted,
            report.rows_duplicate,
            report.rows_quarantined,
            report.api_calls,
            report.load_id,
        ),
    )


def _record_failure(
    warehouse_url: str,
    target: Target,
    logical_date: date,
    load_id: uuid.UUID,
    error: Exception,
    secrets: Iterable[str],
    api_calls: int,
) -> None:
    """Mark the load failed, on a fresh connection: the load's own one may be what broke."""
    secrets = tuple(secrets)
    message = redact(f"{type(error).__name__}: {error}", secrets)
    log.error("%s.%s %s load %s failed: %s", target.source, target.entity, logical_date, load_id, message)
    try:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute(
                "update raw._loads set status = 'failed', finished_at = clock_timestamp(), api_calls = %s,"
                " error = %s where load_id = %s",
                (api_calls, message, load_id),
            )
    except psycopg.Error as db_error:
        log.error("could not record the failure of load %s: %s", load_id, redact(str(db_error), secrets))
