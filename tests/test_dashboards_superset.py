"""Acceptance: the real Superset on 127.0.0.1, provisioned with the stakeholder dashboard over the demo tenant.

One demo night (`sharewhy demo`, through Airflow) publishes `bi` into a throwaway database (or the suite's shared
`demo_night`, see `_demo_tenant`), while Superset's metadata database template is initialised alongside (once per
machine: `$SHAREWHY_HOME/superset-test-template`, then copied).
Then `bi_tool.provision` provisions a throwaway Superset home against that database as `bi_reader`, gunicorn
serves it on a free loopback port, and every chart of the dashboard runs its query through
`POST /api/v1/chart/data` with `force: true` (no cache can hide a broken warehouse): each must answer 200 with
rows. `.venv-superset` is a prerequisite of `make test`, like `.venv`.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from sharewhy import settings

sys.path.insert(0, str(settings.REPO_ROOT))  # bi_tool/ is a top-level folder, not an installed package

from bi_tool import dashboards, provision  # noqa: E402

pytestmark = pytest.mark.e2e

NIGHT = "2026-11-25"
TEMPLATE = settings.STATE_DIR / "superset-test-template"
READER = "bi_reader"


def _demo_night(url: str, home: Path, reader_password: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SHAREWHY_HOME": str(home), "SHAREWHY_WAREHOUSE_URL": url,
           provision.READER_PASSWORD_ENV: reader_password}
    for name in [k for k in env if k.startswith("AIRFLOW")]:
        del env[name]  # the demo prepares its own Airflow environment
    return subprocess.run([sys.executable, "-m", "sharewhy.cli", "demo", "--night", NIGHT],
                          env=env, capture_output=True, text=True, timeout=900)


def _initialise_template() -> float:
    started = time.monotonic()
    provision.prepare_home(TEMPLATE)
    with open(provision.log_path(TEMPLATE), "a") as log:
        provision.initialise(TEMPLATE, log)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def reader_as_it_was(server_url):
    """Put the cluster-wide `bi_reader` back as it was (or disarm it) once the module is done."""
    with psycopg.connect(server_url) as conn:
        before = conn.execute("select rolcanlogin, rolpassword from pg_authid where rolname = %s",
                              (READER,)).fetchone()
    yield
    with psycopg.connect(server_url, autocommit=True) as conn:
        role = sql.Identifier(READER)
        if before is None:
            try:
                conn.execute(sql.SQL("drop role if exists {}").format(role))
            except psycopg.errors.DependentObjectsStillExist:  # granted in another database meanwhile
                conn.execute(sql.SQL("alter role {} nologin password null").format(role))
        else:
            login = sql.SQL("login" if before[0] else "nologin")
            conn.execute(sql.SQL("alter role {} {} password {}").format(role, login, sql.Literal(before[1])))


def _demo_tenant(request, module_db, reader_password, tmp_path_factory) -> tuple[str, float]:
    """(conninfo of a database with a published demo night, seconds spent on Superset's template).

    A session fixture `demo_night` (a dict with the published database's "url"), when the suite's conftest has
    one, saves this module its own night (≈ 5 min on 2 cores): the end-to-end modules can share one. Without it,
    this module runs its own night while Superset's metadata template is initialised alongside.
    """
    try:
        shared = request.getfixturevalue("demo_night")
    except pytest.FixtureLookupError:
        shared = None
    if shared is not None:
        return shared["url"], _initialise_template()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        night = pool.submit(_demo_night, module_db, tmp_path_factory.mktemp("sharewhy-home"), reader_password)
        template = pool.submit(_initialise_template)
        night, template_seconds = night.result(), template.result()
    assert night.returncode == 0, f"the demo night failed, nothing to show:\n{night.stdout}\n{night.stderr}"
    return module_db, template_seconds


@pytest.fixture(scope="module")
def superset(request, module_db, reader_as_it_was, tmp_path_factory):
    """The demo tenant published, Superset provisioned against it and serving; yields what the tests need."""
    reader_password = f"test-{uuid.uuid4().hex}"
    admin_password = f"admin-{uuid.uuid4().hex}"
    home = tmp_path_factory.mktemp("superset-home")
    url, template_seconds = _demo_tenant(request, module_db, reader_password, tmp_path_factory)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(provision.READER_PASSWORD_ENV, reader_password)
        env.setenv(provision.ADMIN_PASSWORD_ENV, admin_password)
        started = time.monotonic()
        report = provision.provision(url, home=home, template=TEMPLATE)
        provision_seconds = time.monotonic() - started
        with provision.running(home) as base:
            session = provision.api_session(base, admin_password)
            yield {"base": base, "session": session, "report": report, "home": home, "url": url,
                   "admin_password": admin_password, "reader_password": reader_password,
                   "seconds": {"template": template_seconds, "provision": provision_seconds}}
    shutil.rmtree(home, ignore_errors=True)


def test_every_view_the_dashboard_reads_is_published_on_the_demo_tenant(superset):
    assert superset["report"].missing_views == []
    assert {dataset.model for dataset in dashboards.DATASETS} <= set(superset["report"].views)


def test_every_chart_query_returns_rows(superset):
    results = provision.run_chart_queries(superset["session"], superset["base"])
    assert sorted(results) == sorted(chart.title for chart in dashboards.CHARTS)
    failing = {title: r for title, r in results.items() if r["status"] != 200 or r["rowcount"] <= 0}
    assert not failing, json.dumps(failing, indent=2)


def test_superset_reads_the_warehouse_as_bi_reader_over_loopback_only(superset):
    assert superset["base"].startswith("http://127.0.0.1:")
    response = superset["session"].get(f"{superset['base']}/api/v1/database/", timeout=60)
    response.raise_for_status()
    databases = response.json()["result"]
    assert [d["database_name"] for d in databases] == [dashboards.DATABASE_NAME]
    connection = superset["session"].get(
        f"{superset['base']}/api/v1/database/{databases[0]['id']}/connection", timeout=60).json()["result"]
    assert connection["sqlalchemy_uri"].startswith(f"postgresql+psycopg2://{READER}@")
    assert connection["parameters"]["username"] == READER
    assert superset["reader_password"] not in json.dumps(connection)
    as_reader = psycopg.conninfo.make_conninfo(superset["url"], user=READER, password=superset["reader_password"])
    with psycopg.connect(as_reader) as conn:
        assert conn.execute("select has_schema_privilege(%s, 'bi', 'usage')", (READER,)).fetchone() == (True,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from raw._loads")


def test_the_dashboard_is_published_with_its_title_and_confidentiality_note(superset):
    response = superset["session"].get(f"{superset['base']}/api/v1/dashboard/{dashboards.DASHBOARD_SLUG}",
                                       timeout=60)
    response.raise_for_status()
    dashboard = response.json()["result"]
    assert dashboard["dashboard_title"] == dashboards.DASHBOARD_TITLE and dashboard["published"]
    assert "Confidentiality" in dashboard["position_json"]


@pytest.mark.skipif(not (Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists()),
                    reason="Debian's chromium and chromium-driver are not installed "
                           "(apt-get install chromium chromium-driver): the rendering check needs a browser")
def test_every_chart_renders_in_a_browser_without_error(superset, tmp_path):
    out = tmp_path / "dashboard.png"
    env = provision.superset_env(superset["home"], SHAREWHY_SUPERSET_ADMIN_PASSWORD=superset["admin_password"])
    result = subprocess.run(
        [str(provision.SUPERSET_BIN / "python"), str(provision.BI_TOOL_DIR / "screenshot.py"),
         provision.dashboard_url(superset["base"]), str(out)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"screenshot of {len(dashboards.CHARTS)} charts" in result.stdout
    assert out.stat().st_size > 10_000


def test_provisioning_again_updates_the_same_objects_without_duplicates(superset, tmp_path):
    """An edited chart in code reaches a Superset provisioned before: same chart, new title, nothing duplicated.
    (Last in the module: it leaves the renamed chart behind.)"""
    edited = tmp_path / "bundle"
    shutil.copytree(dashboards.BUNDLE_DIR, edited)
    chart = dashboards.CHARTS[0]
    path = edited / chart.file
    path.write_text(path.read_text().replace(f"slice_name: {chart.title}", "slice_name: Renamed in code"))

    def charts() -> dict[str, str]:
        response = superset["session"].get(f"{superset['base']}/api/v1/chart/?q=(page_size:100)", timeout=60)
        response.raise_for_status()
        return {str(c["id"]): c["slice_name"] for c in response.json()["result"]}

    before = charts()
    with open(provision.log_path(superset["home"]), "a") as log:
        provision.import_bundle(superset["home"], superset["url"], superset["admin_password"],
                                superset["reader_password"], log, bundle_dir=edited)
    after = charts()
    assert after.keys() == before.keys() and len(after) == len(dashboards.CHARTS)
    assert "Renamed in code" in after.values() and chart.title not in after.values()
