"""docker-compose's `superset-init` without a Docker engine: its own command and environment, as docker-compose.yml
has them, run in .venv-superset (the same lock file as bi_tool/Dockerfile) against real PostgreSQL databases standing
in for `superset-db` and `warehouse`. It shows that the compose path — metadata in PostgreSQL, SECRET_KEY from the
environment, nothing written into the home — migrates, provisions the admin, the dashboard and the viewer, and that a
warehouse where no night has published `bi` yet is a warning, not a failed `up`.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from urllib.parse import urlsplit

import psycopg
import pytest
from test_orchestration_compose import _env_example, _load

from bi_tool import dashboards, provision
from sharewhy import settings

#: Where bi_tool/Dockerfile puts bi_tool/ in the image.
IMAGE_BI_TOOL = "/app/bi_tool"


@pytest.fixture
def superset_db(server_url):
    """An empty database standing in for `superset-db`."""
    name = f"sharewhy_test_superset_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    yield settings.with_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def test_superset_init_provisions_postgres_metadata_from_the_environment(superset_db, fresh_db, tmp_path):
    if not (provision.SUPERSET_BIN / "superset").exists():
        pytest.fail(f"{provision.SUPERSET_VENV} is missing: `make superset-install` creates it (`make test` does)")
    filled = {name: value or f"filled-{name.lower()}" for name, value in _env_example().items()}
    service = _load(filled)[0]["services"]["superset-init"]
    env = dict(service["environment"])
    metadata = urlsplit(env["SHAREWHY_SUPERSET_METADATA_URI"])
    assert (metadata.hostname, metadata.path) == ("superset-db", "/superset")
    # the compose hosts are databases of the test server here
    env["SHAREWHY_SUPERSET_METADATA_URI"] = provision.sqlalchemy_uri(superset_db, user=_user(superset_db))
    env["SHAREWHY_SUPERSET_DB_URI"] = provision.sqlalchemy_uri(fresh_db)
    home = tmp_path / "superset_home"  # the image's empty, writable SUPERSET_HOME
    home.mkdir()
    command = service["command"][2].replace(IMAGE_BI_TOOL, str(provision.BI_TOOL_DIR))
    assert service["command"][:2] == ["bash", "-c"]
    result = subprocess.run(
        ["bash", "-c", command],
        env={**provision.superset_env(home), **env, "PATH": f"{provision.SUPERSET_BIN}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "WARNING: could not read bi." in result.stderr  # nothing published in this warehouse yet
    assert list(home.iterdir()) == []  # no SQLite database, no generated secret key: all from the environment
    with psycopg.connect(superset_db) as conn:
        users = [name for (name,) in conn.execute("select username from ab_user order by 1")]
        dashboard = conn.execute(
            "select dashboard_title from dashboards where slug = %s", (dashboards.DASHBOARD_SLUG,)
        ).fetchone()
        database = conn.execute("select sqlalchemy_uri from dbs").fetchall()
    assert users == ["admin", "viewer"]
    assert dashboard is not None
    assert [urlsplit(uri).username for (uri,) in database] == ["bi_reader"]


def _user(url: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(url).get("user") or "")
