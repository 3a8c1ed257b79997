"""Shared fixtures: a real PostgreSQL database per test session, and a fresh one per test that asks for it.

The server is the one `SHAREWHY_WAREHOUSE_URL` names, or else the embedded warehouse (started if needed).
Tests never touch the `sharewhy` database the demo uses: each gets its own throwaway database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg
import pytest

from sharewhy import settings
from sharewhy_dev import warehouse

os.environ.setdefault("DO_NOT_TRACK", "1")
# Airflow reads its configuration on first import: give the tests their own home, our DAGs, and fail-fast tasks.
os.environ["AIRFLOW_HOME"] = str(settings.STATE_DIR / "airflow-test")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(settings.DAGS_DIR)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["SHAREWHY_TASK_RETRIES"] = "0"
# The member token store's encryption key (Fernet): one per test session, in the environment only.
if not os.environ.get("SHAREWHY_TOKEN_KEYS"):
    from cryptography.fernet import Fernet

    os.environ["SHAREWHY_TOKEN_KEYS"] = Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def server_url() -> str:
    return settings.external_warehouse_url() or warehouse.start()


def _create_database(server_url: str) -> tuple[str, str]:
    name = f"sharewhy_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return name, settings.with_database(server_url, name)


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def fresh_db(server_url: str):
    """A new, empty database for one test; dropped afterwards. Yields its conninfo."""
    name, url = _create_database(server_url)
    yield url
    _drop_database(server_url, name)


@pytest.fixture(scope="module")
def module_db(server_url: str):
    """A new, empty database shared by the tests of one module (for slow set-ups such as a dbt build)."""
    name, url = _create_database(server_url)
    yield url
    _drop_database(server_url, name)


@pytest.fixture(scope="module")
def sim(request, tmp_path_factory):
    """The source simulator as of the test module's `AS_OF` (seed 7), answering the module's `TOKEN`: shared by the
    tests of one module. A module with other needs defines its own `sim`."""
    from simulator.server import start

    with start(
        request.module.AS_OF, seed=7, drop_dir=tmp_path_factory.mktemp("drop"), token=request.module.TOKEN
    ) as running:
        yield running


@pytest.fixture(scope="module")
def http():
    """A requests session that ignores proxy settings (every test server is on 127.0.0.1)."""
    import requests

    with requests.Session() as session:
        session.trust_env = False
        yield session


DEMO_NIGHT = "2026-11-25"
DEMO_RAW_TABLES = (
    "advocacy__shares",
    "hr__roster",
    "linkedin__member_post_analytics",
    "typeform__responses",
    "x__tweet_metrics",
    "bitly__link_clicks",
)


def _raw_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in DEMO_RAW_TABLES}


def _quarantine_counts(url: str) -> dict[str, int]:
    """Rows of raw._quarantine per source.entity."""
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute(
                "select source || '.' || entity, count(*) from raw._quarantine group by 1 order by 1"
            ).fetchall()
        )


@pytest.fixture(scope="session")
def demo_night(server_url, tmp_path_factory):
    """`sharewhy demo` run twice for the same night, through Airflow, into its own database and state folder.

    Shared by the end-to-end modules (a night costs minutes on 2 cores). Yields the database's conninfo ("url"),
    the environment the demo ran with ("env"), both runs' output ("first", "second"), the raw row counts after each
    run ("counts", "counts_after_second") and raw._quarantine's rows per source.entity ("quarantined", …).
    """
    name, url = _create_database(server_url)
    env = {**os.environ, "SHAREWHY_HOME": str(tmp_path_factory.mktemp("demo-home")), "SHAREWHY_WAREHOUSE_URL": url}
    for var in [k for k in env if k.startswith("AIRFLOW")]:
        del env[var]  # the demo prepares its own Airflow environment
    command = [sys.executable, "-m", "sharewhy.cli", "demo", "--night", DEMO_NIGHT]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
    assert first.returncode == 0, first.stdout + first.stderr
    counts, quarantined = _raw_counts(url), _quarantine_counts(url)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
    assert second.returncode == 0, second.stdout + second.stderr
    yield {
        "url": url,
        "env": env,
        "first": first,
        "second": second,
        "counts": counts,
        "counts_after_second": _raw_counts(url),
        "quarantined": quarantined,
        "quarantined_after_second": _quarantine_counts(url),
    }
    _drop_database(server_url, name)
