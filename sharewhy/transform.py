"""The build step of a transform run: `dbt build` with the `bi` candidates in the run's own release schema.

The candidates go straight into `release_schema(run_id)` (dbt var `settings.DBT_RELEASE_VAR`): the audit audits that
schema and fingerprints its relations, and publish promotes that schema only, after checking the fingerprint
(`expectations.publish`). A later build, of this run or another, can therefore not reach `bi` under this run's audit.

The staging, intermediate and marts schemas are shared between runs, so a build needs the transform lease
(`sharewhy.transform_lease`), held by the run until its publish is done.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from expectations.naming import RELEASE_PREFIX, release_schema
from expectations.publish import current_release, forget_release, registered_releases
from sharewhy import dbt, settings, transform_lease

log = logging.getLogger(__name__)

_RELEASE_SCHEMAS = "select nspname from pg_namespace where starts_with(nspname, %s) order by nspname"


class BuildRefused(RuntimeError):
    """Nothing was built: the run's release is what `bi` shows now."""


def release_vars(run_id: str, data_through: date | None = None) -> list[str]:
    """The dbt arguments that put the `bi` candidates into the run's release schema, name the last night the
    build covers (months are complete or partial against it; dbt falls back to the latest share date), and set the
    k-anonymity threshold in force (`settings.K_ANONYMITY`), so the models suppress what the gate checks."""
    build_vars = {settings.DBT_RELEASE_VAR: release_schema(run_id), settings.DBT_K_ANONYMITY_VAR: settings.K_ANONYMITY}
    if data_through is not None:
        build_vars[settings.DBT_DATA_THROUGH_VAR] = data_through.isoformat()
    return ["--vars", json.dumps(build_vars)]


def build_release(
    warehouse_url: str,
    run_id: str,
    dbt_args: Sequence[str] = (),
    target_dir: Path = dbt.TARGET_DIR,
    log_dir: Path = dbt.LOG_DIR,
    data_through: date | None = None,
) -> str:
    """`dbt build <dbt_args>` for `run_id`, which must hold the transform lease; returns the release schema built.
    `data_through` is the night the build covers (see `release_vars`).

    A release of this run left from an earlier attempt (an audit that failed, a crash) is dropped first, so the
    audit sees exactly what this build made; so are the releases of other runs that were never published (their
    runs are over: the lease is this run's), which would otherwise pile up night after night. The release `bi`
    shows now is never rebuilt in place: that run is refused (trigger a new run; its release gets a new name).
    """
    release = release_schema(run_id)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        transform_lease.require(conn, run_id)
        if current_release(conn) == release:
            raise BuildRefused(
                f"run {run_id} is refused: its release {release} is what bi shows now, and a published release is"
                " never rebuilt in place; trigger a new run to rebuild"
            )
        with conn.transaction():
            forget_release(conn, release)  # a kept rollback target of this run: rebuilt from today's data
            kept = registered_releases(conn)
            for (schema,) in conn.execute(_RELEASE_SCHEMAS, (RELEASE_PREFIX,)).fetchall():
                if schema not in kept:
                    log.info("run %s: dropping %s, a release never published", run_id, schema)
                    conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
    log.info("run %s: dbt build, bi candidates into %s", run_id, release)
    dbt.run(
        ["build", *dbt_args, *release_vars(run_id, data_through)], warehouse_url, target_dir=target_dir, log_dir=log_dir
    )
    return release
