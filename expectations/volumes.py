"""Row volumes at publish time, so the next night's audit can compare its build with the last published one.

Marts are rebuilt in place every night and the `bi` candidates are built into a new release schema every run, so
"last night's volume" has to be written down: `publish` records the row count of every volume-checked relation in `audit.published_volumes`,
in the publish transaction (a refused publish records nothing), and the audit's volume rule reads the latest.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from expectations.naming import candidate_relation
from sharewhy import settings

PUBLISHED_VOLUMES = f"{settings.AUDIT_SCHEMA}.published_volumes"

CREATE_PUBLISHED_VOLUMES = f"""
create schema if not exists {settings.AUDIT_SCHEMA};
create table if not exists {PUBLISHED_VOLUMES} (
    seq bigint generated always as identity primary key,
    run_id text not null,
    relation text not null,
    row_count bigint not null,
    published_at timestamptz not null default now()
);
"""


def record_published_volumes(conn: psycopg.Connection, run_id: str, relations: tuple[str, ...], release: str) -> None:
    """Count the rows of each `schema.table` in `relations` that exists (a `bi` candidate in schema `release`), as
    published by `run_id`."""
    conn.execute(CREATE_PUBLISHED_VOLUMES)
    for relation in relations:
        where = candidate_relation(relation, release)
        if conn.execute("select to_regclass(%s)", (where,)).fetchone() == (None,):
            continue
        (row_count,) = conn.execute(
            sql.SQL("select count(*) from {}").format(sql.Identifier(*where.split(".")))
        ).fetchone() or (0,)
        conn.execute(
            f"insert into {PUBLISHED_VOLUMES} (run_id, relation, row_count) values (%s, %s, %s)",
            (run_id, relation, row_count),
        )


def volume_query(relation: str, min_ratio: float, max_ratio: float) -> str:
    """An unexpected-rows query: one row when the batch's row count leaves [min, max] × the last published count.

    No row when nothing was published yet (the first night), or when the last publish had no rows at all.
    """
    return f"""
        with tonight as (
            select count(*) as row_count from {{batch}}
        ),
        published as (
            select row_count from {PUBLISHED_VOLUMES} where relation = '{relation}' order by seq desc limit 1
        )
        select published.row_count as published_rows, tonight.row_count as tonight_rows
        from tonight cross join published
        where published.row_count > 0
            and (tonight.row_count < published.row_count * {min_ratio!r}
                or tonight.row_count > published.row_count * {max_ratio!r})
    """
