"""End to end: `sharewhy demo` runs a whole night through Airflow (`airflow dags test`), twice.

The first run lands every source, builds, audits and publishes `bi`; the second run of the same night must land
nothing new. The run uses its own state folder (Airflow home, file drops, data docs) and its own database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

pytestmark = pytest.mark.e2e

NIGHT = "2026-11-25"
RAW_TABLES = ["advocacy__shares", "linkedin__member_post_analytics", "typeform__responses"]


def _demo(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sharewhy.cli", "demo", "--night", NIGHT],
        env=env, capture_output=True, text=True, timeout=600,
    )


def _raw_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in RAW_TABLES}


@pytest.fixture(scope="module")
def night(module_db, tmp_path_factory):
    env = {**os.environ, "SHAREWHY_HOME": str(tmp_path_factory.mktemp("home")), "SHAREWHY_WAREHOUSE_URL": module_db}
    for name in [k for k in env if k.startswith("AIRFLOW")]:
        del env[name]  # the demo prepares its own Airflow environment
    first = _demo(env)
    assert first.returncode == 0, first.stdout + first.stderr
    counts_after_first = _raw_counts(module_db)
    second = _demo(env)
    assert second.returncode == 0, second.stdout + second.stderr
    return {"env": env, "url": module_db, "first": first, "counts": counts_after_first, "second": second}


def test_every_source_lands_rows(night):
    assert all(n > 0 for n in night["counts"].values()), night["counts"]
    with psycopg.connect(night["url"]) as conn:
        statuses = conn.execute("select distinct status from raw._loads").fetchall()
    assert statuses == [("success",)]


def test_bi_is_published_and_parts_sum_to_totals(night):
    with psycopg.connect(night["url"]) as conn:
        rows, gap = conn.execute(
            """
            select count(*), coalesce(max(abs(total - parts)), 0) from (
                select month, network, max(impressions) as total, sum(attributed_impressions) as parts
                from bi.motivation_attribution group by month, network) g
            """
        ).fetchone()
    assert rows > 0
    assert gap == 0


def test_rerunning_the_night_lands_nothing_twice(night):
    assert _raw_counts(night["url"]) == night["counts"]
    assert "duplicate" in night["second"].stdout


def test_summary_reports_sources_models_audit_and_bi(night):
    out = night["first"].stdout
    for expected in ("linkedin.member_post_analytics", "typeform.responses", "dbt build", "expectations passed",
                     "bi.motivation_attribution"):
        assert expected in out, out


def test_airflow_lists_no_import_errors_in_the_demo_home(night):
    airflow = [sys.executable, "-m", "airflow"]
    env = {**night["env"], "AIRFLOW_HOME": os.path.join(night["env"]["SHAREWHY_HOME"], "airflow"),
           "AIRFLOW__CORE__DAGS_FOLDER": os.path.join(os.path.dirname(os.path.dirname(__file__)), "dags"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    subprocess.run([*airflow, "dags", "reserialize"], env=env, check=True, capture_output=True)
    listed = subprocess.run([*airflow, "dags", "list-import-errors", "-o", "json"], env=env, check=True,
                            capture_output=True, text=True)
    assert json.loads(listed.stdout.strip().splitlines()[-1]) == []
