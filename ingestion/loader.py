"""The shared loader: lands one entity's extraction in `raw` in ONE transaction.

Records stream page by page through psycopg's COPY straight into the raw table, under a savepoint: a night's rows
are new nearly always, and one COPY is the fastest way in (the bench's limit is `psql \\copy` into the same table).
Every byte sent is also spooled to an unlinked temp file. If the table already holds one of the rows (a rerun of a
night, a source's overlapping window, a page delivered twice), the COPY fails on the table's unique key; the loader
rolls back to the savepoint and replays the spool (ingestion/redelivery.py): only what is new is inserted (the
first delivery wins), a repeated row with the same content counts as a duplicate, one with different content goes
to raw._quarantine with both versions. Quarantined records are spooled apart and copied to raw._quarantine;
the state the extraction reached goes to raw._ingestion_state and the counts to raw._loads — all committed
together, so rows and the state that covers them never disagree; a file-drop extraction's files are entered in
raw._file_manifest in the same transaction (ingestion/file_manifest.py). The load's raw._loads row is first
committed as `running`, with the warehouse session it runs in; a failed load rolls back and is marked `failed`, with
the redacted error, in its own transaction. A load killed mid-way (SIGKILL, a lost machine) cannot record anything:
the next load finds its row `running` with no live session behind it and marks it `aborted`
(`mark_abandoned_loads`).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import IO, Any

import orjson
import psycopg
from psycopg import sql
from psycopg.abc import Buffer
from psycopg.copy import LibpqWriter
from psycopg.types.json import set_json_loads

from ingestion.file_manifest import choose_files, record_files
from ingestion.http import redact
from ingestion.records import Extraction, FileDropExtraction, Quarantined, Row, Target, as_json_text
from ingestion.redelivery import replay
from ingestion.shards import WHOLE, Shard

log = logging.getLogger(__name__)

RAW_SCHEMA_SQL = resources.files("ingestion").joinpath("raw_schema.sql").read_text()
RAW_SCHEMA_DIGEST = hashlib.sha256(RAW_SCHEMA_SQL.encode()).hexdigest()[:16]
#: Advisory lock key serialising schema creation: concurrent `create … if not exists` can collide in the catalog.
SCHEMA_LOCK_KEY = 0x7368617265  # "share"


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
    """Create the raw schema and tables if missing (idempotent); a no-op once this version of it is applied.

    The applied version is the comment on schema `raw`. Skipping the script matters: its `create index if not
    exists` locks the table before it checks, so every load would otherwise queue behind any load still writing to
    one of the indexed tables.
    """
    marker = f"sharewhy raw schema {RAW_SCHEMA_DIGEST}"
    (applied,) = conn.execute("select obj_description(to_regnamespace('raw'), 'pg_namespace')").fetchone() or (None,)
    if applied == marker:
        return
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        conn.execute(RAW_SCHEMA_SQL)
        conn.execute(sql.SQL("comment on schema raw is {}").format(sql.Literal(marker)))


def land(
    warehouse_url: str,
    target: Target,
    logical_date: date,
    extract: Callable[[dict[str, Any] | None], Extraction],
    *,
    secrets: Iterable[str] = (),
    shard: Shard = WHOLE,
) -> LoadReport:
    """Run `extract(previous_state)` and land its records; `secrets` are scrubbed from the recorded error.

    Loads of one target wait for each other (an advisory lock), except the shards of a sharded load
    (ingestion/shards.py), which lock their own shard only and so run at once."""
    load_id = uuid.uuid4()
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        set_json_loads(orjson.loads, conn)
        apply_raw_schema(conn)
        mark_abandoned_loads(conn, load_id)
        conn.execute(
            "insert into raw._loads (load_id, source, entity, logical_date, started_at, status, backend_pid,"
            " backend_start)"
            " select %s, %s, %s, %s, clock_timestamp(), 'running', pid, backend_start"
            " from pg_stat_activity where pid = pg_backend_pid()",
            (load_id, target.source, target.entity, logical_date),
        )
        extraction = None
        try:
            with conn.transaction():
                lock = f"{target.source}.{target.entity}" + (f" shard {shard.label}" if shard != WHOLE else "")
                conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (lock,))
                extraction = extract(_read_state(conn, target))
                files = (
                    choose_files(conn, target, load_id, extraction)
                    if isinstance(extraction, FileDropExtraction)
                    else None
                )
                received, inserted, quarantined = _land_records(
                    conn, target, load_id, logical_date, extraction.records()
                )
                if isinstance(extraction, FileDropExtraction) and files is not None:
                    record_files(conn, target, load_id, files, extraction)
                state = extraction.state()
                _save_state(conn, target, load_id, state if shard == WHOLE else {**state, "shard": shard.label})
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


def mark_abandoned_loads(conn: psycopg.Connection, found_by: uuid.UUID) -> int:
    """Mark `aborted` every `running` load whose warehouse session has ended; return how many.

    A live load holds its session open from its `running` row to its outcome, so a `running` row without its session
    (same pid and session start: a pid can be reused) was killed before it could say how it ended. Its rows were
    never committed (one transaction per load), so nothing is lost but the record, which this sets right. Another
    role's sessions show no `backend_start` in pg_stat_activity without pg_read_all_stats: then the pid alone decides.
    """
    aborted = conn.execute(
        "update raw._loads l set status = 'aborted', finished_at = clock_timestamp(),"
        " error = 'aborted: its warehouse session ended before the load recorded an outcome (process killed or"
        " connection lost); nothing it read was committed. Found by load ' || %s"
        " where l.status = 'running' and not exists ("
        "   select from pg_stat_activity a where a.pid = l.backend_pid"
        "   and (a.backend_start is null or a.backend_start = l.backend_start))"
        " returning source, entity, logical_date, load_id",
        (str(found_by),),
    ).fetchall()
    for source, entity, night, load_id in aborted:
        log.warning("%s.%s %s load %s was abandoned mid-way: marked aborted", source, entity, night, load_id)
    return len(aborted)


def _read_state(conn: psycopg.Connection, target: Target) -> dict[str, Any] | None:
    row = conn.execute(
        "select state from raw._ingestion_state where source = %s and entity = %s", (target.source, target.entity)
    ).fetchone()
    return row[0] if row else None


class _Stream:
    """The extraction's records as COPY rows for the raw table; quarantined records go to `quarantine_spool` (one
    JSON array per line) as they pass. `exhausted` tells whether every record was read.

    The load metadata is rendered to text once per load (the extraction time once per distinct value): psycopg's
    uuid/date/timestamptz dumpers cost ~4 µs a row, more than the JSON payload, and the COPY's text is the same."""

    def __init__(
        self, records: Iterator[Row | Quarantined], load_id: uuid.UUID, logical_date: date, quarantine_spool: IO[bytes]
    ):
        self._records, self._quarantine_spool = records, quarantine_spool
        self._load_id, self._logical_date = str(load_id), logical_date.isoformat()
        self.received = self.quarantined = 0
        self.exhausted = False

    def rows(self) -> Iterator[tuple[Any, ...]]:
        extracted_at, extracted_at_text = None, ""
        for record in self._records:
            self.received += 1
            if isinstance(record, Row):
                if record.extracted_at != extracted_at:
                    extracted_at, extracted_at_text = record.extracted_at, record.extracted_at.isoformat()
                yield (
                    *record.keys,
                    as_json_text(record.payload),
                    self._load_id,
                    extracted_at_text,
                    self._logical_date,
                    record.request,
                )
            else:
                self.quarantined += 1
                self._quarantine_spool.write(orjson.dumps((record.reason, record.record)) + b"\n")
        self.exhausted = True


class _SpoolingWriter(LibpqWriter):
    """Sends the COPY data to the server and keeps every byte of it in `spool`, to replay if the COPY fails."""

    def __init__(self, cursor: psycopg.Cursor[Any], spool: IO[bytes]):
        super().__init__(cursor)
        self._spool = spool

    def write(self, data: Buffer) -> None:
        self._spool.write(data)
        super().write(data)


def _land_records(
    conn: psycopg.Connection,
    target: Target,
    load_id: uuid.UUID,
    logical_date: date,
    records: Iterator[Row | Quarantined],
) -> tuple[int, int, int]:
    """Land the stream in `raw.<table>` and `raw._quarantine`; returns (received, inserted, quarantined), where
    quarantined counts the records new to raw._quarantine: one refused again as it was (a rerun of the night) is
    already there, and counts with the duplicates."""
    columns = sql.SQL(", ").join(map(sql.Identifier, target.landed_columns))
    copy_in = sql.SQL("copy {table} ({columns}) from stdin").format(
        table=sql.Identifier("raw", target.table), columns=columns
    )
    with tempfile.TemporaryFile() as row_spool, tempfile.TemporaryFile() as quarantine_spool:
        stream = _Stream(records, load_id, logical_date, quarantine_spool)
        conflicts = 0
        try:
            with conn.transaction(), conn.cursor() as cursor:  # a savepoint: a failed COPY leaves the load going
                with cursor.copy(copy_in, writer=_SpoolingWriter(cursor, row_spool)) as copy:
                    for row in stream.rows():
                        copy.write_row(row)
                inserted = cursor.rowcount
        except psycopg.errors.UniqueViolation:
            if not stream.exhausted:  # the spool would lack the rest: never replay part of a delivery
                raise
            log.info("%s.%s: some rows are already in raw; keeping only the new ones", target.source, target.entity)
            inserted, conflicts = replay(conn, target, load_id, row_spool, stream.received - stream.quarantined)
        quarantined = conflicts + _copy_quarantined(conn, target, load_id, quarantine_spool)
    return stream.received, inserted, quarantined


def _copy_quarantined(conn: psycopg.Connection, target: Target, load_id: uuid.UUID, quarantine_spool: IO[bytes]) -> int:
    """The spooled refused records into raw._quarantine, but those it holds already (same source, entity, reason
    and record: raw_schema.sql's key); returns how many were new."""
    if quarantine_spool.tell() == 0:
        return 0
    quarantine_spool.seek(0)
    conn.execute(
        "create temp table _refused (reason text, record text, _seq bigint generated always as identity) on commit drop"
    )
    with conn.cursor() as cursor, cursor.copy("copy _refused (reason, record) from stdin") as copy:
        for line in quarantine_spool:
            copy.write_row(orjson.loads(line))
    return conn.execute(
        "insert into raw._quarantine (load_id, source, entity, reason, record)"
        " select %s, %s, %s, reason, record from _refused order by _seq on conflict do nothing",
        (load_id, target.source, target.entity),
    ).rowcount


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
