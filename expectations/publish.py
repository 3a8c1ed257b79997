r"""The publish step of write–audit–publish: switch `bi` to the audited build in one transaction.

Why this shape:
- A transform run builds its `bi` candidates straight into its release schema `bi_release_<run>`
  (`sharewhy.transform`); the audit validates that schema and records it with its fingerprint
  (`expectations.fingerprint`) in `audit.audited_builds`. `publish` promotes exactly that schema, and only while
  its fingerprint still matches: a build made after the audit (a second run, a stray `dbt build`) is refused, not
  published under someone else's audit. A schema audited under another name (`bi_build`, where a hand-run
  `dbt build` puts the candidates) is renamed to the run's release in the switch: a rename keeps every relation,
  so the fingerprint still holds.
- `bi` holds views only, one per table of the current release: `bi.<t>` = `select * from bi_release_<run>.<t>`.
  The switch repoints every view, all in ONE transaction: a reader's statement sees either all the old views or
  all the new ones, never a mix, and never a half-built table. No data is copied, whatever the size.
- Readers are never held up for more than an instant. Replacing a view takes an exclusive lock on it until the
  commit; while the switch waited for a view a long query reads, every query on the views already replaced would
  wait too. So each attempt waits at most `settings.PUBLISH_LOCK_TIMEOUT_MS` for any lock (`lock_timeout`); when it
  times out, everything is rolled back (readers go on with the old release) and the whole switch is tried again
  after a backoff (so too when PostgreSQL aborted it to break a deadlock with a reader holding one view while
  asking for another), until `settings.PUBLISH_RETRY_SECONDS` have passed: then publish fails with `PublishBlocked`,
  naming the sessions that held it up, and `bi` stays as it was. Dropping old releases, which waits for their last
  readers, happens after the commit, with the same bounded wait; a release that cannot be dropped now is dropped
  by a later publish.
- Each `bi` view carries the comments of its release table and of its columns (dbt's `persist_docs` writes the
  model's descriptions there), copied in the switch: `\d+ bi.<view>` and any BI tool show the documentation.
- A view whose columns changed is dropped and recreated (PostgreSQL's `create or replace view` only appends
  columns); views for tables that are no longer built are dropped, so `bi` is exactly the release.
- The newest `KEEP_RELEASES` releases stay, older ones are dropped; `audit.bi_releases` records which schema came
  from which run, in publish order, with when that run's audit started. A run whose audit is older than that of
  the release `bi` shows is refused (re-running an old run's publish must not roll `bi` back); `rollback`
  switches back to a kept release on purpose.
- BI tools read through views with the view owner's rights, so the `bi_reader` role (`sharewhy.warehouse_access`)
  needs `usage` on `bi` and `select` on its views only, never rights on the release schemas. A dropped and
  recreated view loses its grants, so they are given again in the switch transaction, after the views.
- The row counts of the volume-checked marts and candidates are recorded in the same transaction
  (`expectations.volumes`): the next night's audit compares its build with them.
- `publish` refuses a run whose audit (in `audit.validation_runs`) is missing or failed: the gate holds even if a
  caller forgets to check the audit result.
- Concurrent publishes are serialised by a transaction-level advisory lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from expectations.fingerprint import differences, fingerprint
from expectations.naming import RELEASE_PREFIX, release_schema
from expectations.suites import VOLUME_CHECKED
from expectations.volumes import record_published_volumes
from sharewhy import settings, warehouse_access

log = logging.getLogger(__name__)

#: Releases kept after a publish, the current one included.
KEEP_RELEASES = 3

#: Advisory lock key serialising publishes ("sharewhy publish" as a number).
_PUBLISH_LOCK = 0x5348_5750_5542

#: Backoff between two attempts of the switch: doubling from the first, up to the last (seconds).
_BACKOFF_FIRST, _BACKOFF_MAX = 0.1, 5.0

#: Name a release of the same run id is moved to while it is being replaced (inside the publish transaction only).
_SUPERSEDED = "bi_release__superseded"

_RELEASES = f"{settings.AUDIT_SCHEMA}.bi_releases"
_AUDITED_BUILDS = f"{settings.AUDIT_SCHEMA}.audited_builds"

_CREATE_REGISTRY = f"""
create schema if not exists {settings.AUDIT_SCHEMA};
create table if not exists {_RELEASES} (
    seq bigint generated always as identity primary key,
    release_schema text not null unique,
    run_id text not null,
    published_at timestamptz not null default now()
);
-- added with the fingerprinted audits: when the release's audit started (what "older" means to publish)
alter table {_RELEASES} add column if not exists audited_at timestamptz;
"""

#: Tables, views and materialised views of a schema: what gets a view in `bi`.
_RELATIONS = """
select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm') order by c.relname
"""

#: The comment of a relation and of each of its columns (null where none).
_RELATION_COMMENT = "select obj_description(to_regclass(%s), 'pg_class')"
_COLUMN_COMMENTS = """
select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute a
where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped order by a.attnum
"""

_VIEWS = """
select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = %s and c.relkind = 'v'
"""

_COLUMNS = """
select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a
where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped order by a.attnum
"""

#: Sessions holding a lock on a `bi` view or a release's table: who a blocked switch waited for.
_LOCK_HOLDERS = """
select distinct a.pid, a.usename, a.application_name, a.state, a.xact_start
from pg_locks l
join pg_class c on c.oid = l.relation
join pg_namespace n on n.oid = c.relnamespace
join pg_stat_activity a on a.pid = l.pid
where l.granted and l.pid <> pg_backend_pid() and (n.nspname = %s or starts_with(n.nspname, %s))
order by a.xact_start
"""


class PublishRefused(RuntimeError):
    """Nothing was published: there is no build, its audit is missing or failed, it changed since its audit, or it
    is older than what `bi` shows."""


class PublishBlocked(RuntimeError):
    """Nothing was published: readers held the `bi` views for the whole retry budget."""


@dataclass(frozen=True)
class _Audited:
    candidates: str
    audited_at: dt.datetime


def publish(warehouse_url: str, run_id: str) -> str:
    """Make `bi` show the audited build of `run_id`; return the release schema it now reads from."""
    return _switch(warehouse_url, run_id, rollback=False)


def rollback(warehouse_url: str, run_id: str) -> str:
    """Make `bi` show the kept release of an earlier run again, on purpose (publish refuses an older release).

    The release must still exist (`KEEP_RELEASES`) and match the fingerprint of its audit.
    """
    return _switch(warehouse_url, run_id, rollback=True)


def current_release(conn: psycopg.Connection) -> str | None:
    """The release schema `bi` shows now (the last published), or None."""
    if _value(conn, "select to_regclass(%s)", (_RELEASES,)) is None:
        return None
    row = conn.execute(f"select release_schema from {_RELEASES} order by seq desc limit 1").fetchone()
    return row[0] if row else None


def registered_releases(conn: psycopg.Connection) -> set[str]:
    """The release schemas published and kept (the current one and the rollback targets)."""
    if _value(conn, "select to_regclass(%s)", (_RELEASES,)) is None:
        return set()
    return {schema for (schema,) in conn.execute(f"select release_schema from {_RELEASES}")}


def forget_release(conn: psycopg.Connection, release: str) -> None:
    """Remove a release from the registry (its schema was dropped)."""
    if _value(conn, "select to_regclass(%s)", (_RELEASES,)) is not None:
        conn.execute(f"delete from {_RELEASES} where release_schema = %s", (release,))


def _switch(warehouse_url: str, run_id: str, rollback: bool) -> str:
    """`_switch_once`, again after a backoff whenever an attempt timed out on a lock (see the module docstring)."""
    deadline = time.monotonic() + settings.PUBLISH_RETRY_SECONDS
    backoff, attempt = _BACKOFF_FIRST, 1
    while True:
        try:
            release, tables = _switch_once(warehouse_url, run_id, rollback)
            break
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as error:
            if time.monotonic() + backoff > deadline:
                raise PublishBlocked(
                    f"publish of {run_id} gave up after {attempt} attempts over {settings.PUBLISH_RETRY_SECONDS:g} s"
                    f" (SHAREWHY_PUBLISH_RETRY_SECONDS): {_lock_holders(warehouse_url)}; bi stays as it was"
                ) from error
            log.warning(
                "publish of %s, attempt %d: a reader holds a bi view (%s); retrying in %.1f s",
                run_id,
                attempt,
                type(error).__name__,
                backoff,
            )
            time.sleep(backoff)
            backoff, attempt = min(2 * backoff, _BACKOFF_MAX), attempt + 1
    log.info("published %s: bi now reads %s (%d tables)", run_id, release, len(tables))
    _drop_old_releases(warehouse_url)
    return release


def _switch_once(warehouse_url: str, run_id: str, rollback: bool) -> tuple[str, list[str]]:
    release = release_schema(run_id)
    with psycopg.connect(warehouse_url, autocommit=True) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_PUBLISH_LOCK,))
        conn.execute(f"set local lock_timeout = {int(settings.PUBLISH_LOCK_TIMEOUT_MS)}")
        conn.execute(_CREATE_REGISTRY)
        audited = _require_audited_build(conn, run_id)
        _require_not_older(conn, run_id, audited, rollback)

        superseded = False
        if audited.candidates != release:  # audited where a hand-run dbt build put it: it becomes the release
            superseded = _schema_exists(conn, release)
            if superseded:  # the same run published before (a re-run): replace that release
                _rename_schema(conn, release, _SUPERSEDED)
            _rename_schema(conn, audited.candidates, release)
        record_published_volumes(conn, run_id, VOLUME_CHECKED, release)
        warehouse_access.ensure_role(conn)
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(settings.BI_SCHEMA)))

        tables = [name for (name,) in conn.execute(_RELATIONS, (release,))]
        for table in tables:
            _point_view(conn, release, table)
        for (view,) in conn.execute(_VIEWS, (settings.BI_SCHEMA,)).fetchall():
            if view not in tables:
                conn.execute(sql.SQL("drop view {}").format(sql.Identifier(settings.BI_SCHEMA, view)))
        warehouse_access.grant_read_on_bi(conn)

        if superseded:
            conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(_SUPERSEDED)))
        conn.execute(f"delete from {_RELEASES} where release_schema = %s", (release,))
        conn.execute(
            f"insert into {_RELEASES} (release_schema, run_id, audited_at) values (%s, %s, %s)",
            (release, run_id, audited.audited_at),
        )
    return release, tables


def _require_audited_build(conn: psycopg.Connection, run_id: str) -> _Audited:
    """The schema the run's passed audit read, unchanged since (its fingerprint), else `PublishRefused`."""
    no_audit = PublishRefused(f"no audit recorded for run {run_id}: run expectations.audit.run_audit first")
    if _value(conn, "select to_regclass(%s)", (_AUDITED_BUILDS,)) is None:
        raise no_audit
    failed, total = conn.execute(
        # a failed warning (severity `warning`) is recorded evidence, not a reason to refuse the publish
        f"select count(*) filter (where not success and severity = 'error'), count(*)"
        f" from {settings.AUDIT_SCHEMA}.validation_runs"
        " where run_id = %s",
        (run_id,),
    ).fetchone() or (0, 0)
    record = conn.execute(
        f"select candidates, fingerprint, audited_at from {_AUDITED_BUILDS} where run_id = %s", (run_id,)
    ).fetchone()
    if total == 0 or record is None:
        raise no_audit
    if failed:
        raise PublishRefused(
            f"the audit of run {run_id} failed {failed} of {total} blocking expectations: bi stays as it is"
        )
    candidates, recorded, audited_at = record
    if not _schema_exists(conn, candidates):
        raise PublishRefused(
            f"nothing to publish for {run_id}: schema {candidates}, which its audit read, does not exist"
        )
    changes = differences(recorded, fingerprint(conn, candidates))
    if changes:
        raise PublishRefused(
            f"the build of run {run_id} in {candidates} changed since its audit ({', '.join(changes)}): publishing it"
            " would publish what no audit read; bi stays as it is (audit the build again, or run the transform again)"
        )
    return _Audited(candidates, audited_at)


def _require_not_older(conn: psycopg.Connection, run_id: str, audited: _Audited, rollback: bool) -> None:
    current = conn.execute(f"select run_id, audited_at from {_RELEASES} order by seq desc limit 1").fetchone()
    if rollback or current is None or current[0] == run_id or current[1] is None:
        return
    if audited.audited_at < current[1]:
        raise PublishRefused(
            f"run {run_id} (audited {audited.audited_at:%Y-%m-%d %H:%M:%S %Z}) is older than run {current[0]}, whose"
            f" release bi shows (audited {current[1]:%Y-%m-%d %H:%M:%S %Z}): publishing it would roll bi back;"
            " use expectations.publish.rollback to do that on purpose"
        )


def _value(conn: psycopg.Connection, query: str, params: tuple = ()) -> Any:
    """The first column of the query's one row (None without a row)."""
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def _schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    return bool(_value(conn, "select exists (select from pg_namespace where nspname = %s)", (schema,)))


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
    conn.execute(sql.SQL("create or replace view {} as select * from {}").format(view, sql.Identifier(release, table)))
    _copy_comments(conn, sql.Identifier(release, table), view)


def _copy_comments(conn: psycopg.Connection, source: sql.Identifier, view: sql.Identifier) -> None:
    """The table comment and column comments of `source` onto `view` (a comment the source lacks is cleared)."""
    qualified = source.as_string(conn)
    comment = _value(conn, _RELATION_COMMENT, (qualified,))
    conn.execute(sql.SQL("comment on view {} is {}").format(view, sql.Literal(comment)))
    for column, column_comment in conn.execute(_COLUMN_COMMENTS, (qualified,)).fetchall():
        conn.execute(
            sql.SQL("comment on column {}.{} is {}").format(view, sql.Identifier(column), sql.Literal(column_comment))
        )


def _drop_old_releases(warehouse_url: str) -> None:
    """Drop the releases beyond the newest `KEEP_RELEASES`, each in its own transaction with the bounded lock wait:
    one still read by a long query is left, with its registry row, for a later publish to drop."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        old = conn.execute(f"select release_schema from {_RELEASES} order by seq desc offset %s", (KEEP_RELEASES,))
        for (schema,) in old.fetchall():
            try:
                with conn.transaction():
                    conn.execute(f"set local lock_timeout = {int(settings.PUBLISH_LOCK_TIMEOUT_MS)}")
                    conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
                    conn.execute(f"delete from {_RELEASES} where release_schema = %s", (schema,))
            except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
                log.warning("old release %s is still being read: left for a later publish to drop", schema)


def _lock_holders(warehouse_url: str) -> str:
    """The sessions holding locks on `bi` or the releases, for the message of a blocked publish."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        holders = conn.execute(_LOCK_HOLDERS, (settings.BI_SCHEMA, RELEASE_PREFIX)).fetchall()
    if not holders:
        return "no session holds a bi view now"
    return "held by " + "; ".join(
        f"pid {pid} ({user}, {application or 'no application_name'}, {state}, in a transaction since {since:%H:%M:%S})"
        for pid, user, application, state, since in holders
    )
