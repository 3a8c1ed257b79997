"""The publish step of write–audit–publish: switch `bi` to the audited build in one transaction.

Why this shape:
- dbt writes the candidates into `bi_build` and GX audits them there (`expectations.audit`); readers never see
  `bi_build`. Only after a passed audit does `publish` run, so a failed audit leaves `bi` on the last good build.
- `bi` holds views only, one per table of the current release: `bi.<t>` = `select * from bi_release_<run>.<t>`.
  The switch renames `bi_build` to `bi_release_<run>` (no data is copied, whatever the size) and repoints every
  view, all in ONE transaction: a reader's statement sees either all the old views or all the new ones, never a
  mix, and never a half-built table. Replacing a view takes an exclusive lock on it for the instant of the
  commit; statements queued behind it resolve the new definition with a fresh snapshot.
- A view whose columns changed is dropped and recreated (PostgreSQL's `create or replace view` only appends
  columns); views for tables that are no longer built are dropped, so `bi` is exactly the release.
- The newest `KEEP_RELEASES` releases stay (the previous ones are a rollback away: repoint the views), older ones
  are dropped; `audit.bi_releases` records which schema came from which run, in publish order.
- BI tools read through views with the view owner's rights, so the `bi_reader` role (`expectations.bi_reader`)
  needs `usage` on `bi` and `select` on its views only, never rights on the release schemas. A dropped and
  recreated view loses its grants, so they are given again in the switch transaction, after the views.
- The row counts of the volume-checked marts and candidates are recorded in the same transaction
  (`expectations.volumes`): the next night's audit compares its build with them.
- `publish` refuses a run whose audit (in `audit.validation_runs`) is missing or failed: the gate holds even if a
  caller forgets to check the audit result.
- Concurrent publishes are serialised by a transaction-level advisory lock. A reader holding one `bi` view while
  waiting for another can deadlock with the switch; PostgreSQL then aborts one side, and if that is the publish
  it is retried (everything rolled back, so a retry starts clean).
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from expectations import bi_reader
from expectations.naming import release_schema
from expectations.suites import VOLUME_CHECKED
from expectations.volumes import record_published_volumes
from sharewhy import settings

log = logging.getLogger(__name__)

#: Releases kept after a publish, the current one included.
KEEP_RELEASES = 3

#: Attempts when PostgreSQL picks the publish as a deadlock victim (see module docstring).
_ATTEMPTS = 3

#: Advisory lock key serialising publishes ("sharewhy publish" as a number).
_PUBLISH_LOCK = 0x5348_5750_5542

#: Name a release of the same run id is moved to while it is being replaced (inside the publish transaction only).
_SUPERSEDED = "bi_release__superseded"

_RELEASES = f"{settings.AUDIT_SCHEMA}.bi_releases"

_CREATE_REGISTRY = f"""
create schema if not exists {settings.AUDIT_SCHEMA};
create table if not exists {_RELEASES} (
    seq bigint generated always as identity primary key,
    release_schema text not null unique,
    run_id text not null,
    published_at timestamptz not null default now()
);
"""

#: Tables, views and materialised views of a schema: what gets a view in `bi`.
_RELATIONS = """
select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm') order by c.relname
"""

_VIEWS = """
select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = %s and c.relkind = 'v'
"""

_COLUMNS = """
select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a
where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped order by a.attnum
"""


class PublishRefused(RuntimeError):
    """Nothing was published: there is no build, or its audit is missing or failed."""


def publish(warehouse_url: str, run_id: str) -> str:
    """Make `bi` show the audited build of `run_id`; return the release schema it now reads from."""
    attempt = 1
    while True:
        try:
            return _publish_once(warehouse_url, run_id)
        except psycopg.errors.DeadlockDetected:
            if attempt == _ATTEMPTS:
                raise
            log.warning("publish of %s lost a deadlock against a reader; retrying (%d/%d)", run_id, attempt, _ATTEMPTS)
            attempt += 1


def _publish_once(warehouse_url: str, run_id: str) -> str:
    release = release_schema(run_id)
    with psycopg.connect(warehouse_url, autocommit=True) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_PUBLISH_LOCK,))
        _require_audited_build(conn, run_id)
        conn.execute(_CREATE_REGISTRY)
        record_published_volumes(conn, run_id, VOLUME_CHECKED)
        bi_reader.ensure_role(conn)

        superseded = _schema_exists(conn, release)
        if superseded:  # the same run published before (a re-run): replace that release
            _rename_schema(conn, release, _SUPERSEDED)
        _rename_schema(conn, settings.BI_BUILD_SCHEMA, release)
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(settings.BI_SCHEMA)))

        tables = [name for (name,) in conn.execute(_RELATIONS, (release,))]
        for table in tables:
            _point_view(conn, release, table)
        for (view,) in conn.execute(_VIEWS, (settings.BI_SCHEMA,)).fetchall():
            if view not in tables:
                conn.execute(sql.SQL("drop view {}").format(sql.Identifier(settings.BI_SCHEMA, view)))
        bi_reader.grant_read_on_bi(conn)

        if superseded:
            conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(_SUPERSEDED)))
            conn.execute(f"delete from {_RELEASES} where release_schema = %s", (release,))
        conn.execute(f"insert into {_RELEASES} (release_schema, run_id) values (%s, %s)", (release, run_id))
        _drop_old_releases(conn)
    log.info("published %s: bi now reads %s (%d tables)", run_id, release, len(tables))
    return release


def _require_audited_build(conn: psycopg.Connection, run_id: str) -> None:
    if not _schema_exists(conn, settings.BI_BUILD_SCHEMA):
        raise PublishRefused(f"nothing to publish for {run_id}: schema {settings.BI_BUILD_SCHEMA} does not exist")
    no_audit = PublishRefused(f"no audit recorded for run {run_id}: run expectations.audit.run_audit first")
    if conn.execute("select to_regclass(%s)", (f"{settings.AUDIT_SCHEMA}.validation_runs",)).fetchone()[0] is None:
        raise no_audit
    failed, total = conn.execute(
        # a failed warning (severity `warning`) is recorded evidence, not a reason to refuse the publish
        f"select count(*) filter (where not success and severity = 'error'), count(*)"
        f" from {settings.AUDIT_SCHEMA}.validation_runs"
        " where run_id = %s",
        (run_id,),
    ).fetchone()
    if total == 0:
        raise no_audit
    if failed:
        raise PublishRefused(
            f"the audit of run {run_id} failed {failed} of {total} blocking expectations: bi stays as it is"
        )


def _schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    return conn.execute("select exists (select from pg_namespace where nspname = %s)", (schema,)).fetchone()[0]


def _rename_schema(conn: psycopg.Connection, old: str, new: str) -> None:
    conn.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(old), sql.Identifier(new)))


def _columns(conn: psycopg.Connection, schema: str, relation: str) -> list[tuple[str, str]]:
    qualified = sql.Identifier(schema, relation).as_string(conn)
    return conn.execute(_COLUMNS, (qualified,)).fetchall()


def _point_view(conn: psycopg.Connection, release: str, table: str) -> None:
    """`bi.<table>` := `select * from <release>.<table>`, recreated when its columns differ."""
    view = sql.Identifier(settings.BI_SCHEMA, table)
    current = _columns(conn, settings.BI_SCHEMA, table)
    if current and current != _columns(conn, release, table):
        conn.execute(sql.SQL("drop view {}").format(view))
    conn.execute(
        sql.SQL("create or replace view {} as select * from {}").format(view, sql.Identifier(release, table))
    )


def _drop_old_releases(conn: psycopg.Connection) -> None:
    old = conn.execute(f"select release_schema from {_RELEASES} order by seq desc offset %s", (KEEP_RELEASES,))
    for (schema,) in old.fetchall():
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
        conn.execute(f"delete from {_RELEASES} where release_schema = %s", (schema,))
