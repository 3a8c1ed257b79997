"""How the gate names things and reaches the warehouse: SQLAlchemy URLs for GX, run-id-derived names."""

from __future__ import annotations

import os

import psycopg
import pytest
import sqlalchemy as sa

from expectations.connection import GX_URL_ENV, gx_url_in_environment, sqlalchemy_url
from expectations.naming import docs_dirname, release_schema


@pytest.mark.parametrize(
    ("libpq", "expected"),
    [
        (
            "postgresql://postgres:@/sharewhy?host=/srv/pg/socket",
            "postgresql+psycopg2://postgres@/sharewhy?host=%2Fsrv%2Fpg%2Fsocket",
        ),
        (
            "user=postgres dbname=x host=/srv/pg/socket port=5433",
            "postgresql+psycopg2://postgres@/x?host=%2Fsrv%2Fpg%2Fsocket&port=5433",
        ),
        (
            "postgresql://dbt:p%40ss:w%2Frd@127.0.0.1:55432/warehouse?sslmode=disable",
            "postgresql+psycopg2://dbt:p%40ss%3Aw%2Frd@127.0.0.1:55432/warehouse?sslmode=disable",
        ),
    ],
)
def test_sqlalchemy_url_keeps_socket_dirs_out_of_the_netloc(libpq, expected):
    assert sqlalchemy_url(libpq) == expected


def test_sqlalchemy_url_connects_over_the_socket(fresh_db):
    engine = sa.create_engine(sqlalchemy_url(fresh_db))
    try:
        with engine.connect() as conn:
            database = conn.execute(sa.text("select current_database()")).scalar_one()
    finally:
        engine.dispose()
    assert database == psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]


def test_gx_url_lives_in_the_environment_only_during_the_audit(monkeypatch):
    monkeypatch.delenv(GX_URL_ENV, raising=False)
    with gx_url_in_environment("postgresql://u:secret@db.example/wh"):
        assert os.environ[GX_URL_ENV] == "postgresql+psycopg2://u:secret@db.example/wh"
    assert GX_URL_ENV not in os.environ


def test_release_schema_is_a_plain_identifier():
    assert release_schema("scheduled__2026-11-26T02:00:00+00:00") == "bi_release_scheduled__2026_11_26t02_00_00_00_00"
    long_a, long_b = "manual__" + "a" * 80, "manual__" + "a" * 79 + "b"
    assert len(release_schema(long_a)) == 63
    assert release_schema(long_a) != release_schema(long_b)


def test_docs_dirname_stays_inside_the_docs_folder():
    assert docs_dirname("scheduled__2026-11-26T02:00:00+00:00") == "scheduled__2026-11-26T02_00_00_00_00"
    assert docs_dirname("../../etc") == ".._.._etc"
    assert docs_dirname("..") == "__"
