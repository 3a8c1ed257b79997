"""Shared fixtures: a real PostgreSQL database per test session, and a fresh one per test that asks for it.

The server is the one `SHAREWHY_WAREHOUSE_URL` names, or else the embedded warehouse (started if needed).
Tests never touch the `sharewhy` database the demo uses: each gets its own throwaway database.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

from sharewhy import settings, warehouse

os.environ.setdefault("DO_NOT_TRACK", "1")
# Airflow reads its configuration on first import: give the tests their own home, our DAGs, and fail-fast tasks.
os.environ["AIRFLOW_HOME"] = str(settings.STATE_DIR / "airflow-test")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(settings.DAGS_DIR)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["SHAREWHY_TASK_RETRIES"] = "0"


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
