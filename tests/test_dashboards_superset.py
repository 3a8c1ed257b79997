"""Acceptance: the real Superset on 127.0.0.1, provisioned with the stakeholder dashboard over the demo tenant.

One demo night (`sharewhy demo`, through Airflow) publishes `bi` into a throwaway database (or the suite's shared
`demo_night`, see `_demo_tenant`), while Superset's metadata database template is initialised alongside (once per
machine: `$SHAREWHY_HOME/superset-test-template`, then copied).
Then `bi_tool.provision` provisions a throwaway Superset home against that database as `bi_reader`, gunicorn
serves it on a free loopback port, and every chart of the dashboard runs its query through
`POST /api/v1/chart/data` with `force: true` (no cache can hide a broken warehouse): each must answer 200 with
rows. The stakeholders' read-only `viewer` gets the same rows, and Superset refuses it everything else that
matters (editing, deleting, SQL Lab, databases, users); each refusal is paired with the same request made as the
admin, or with the object checked afterwards, so a refusal for another reason (a malformed request, a missing CSRF
token) cannot pass for one. `.venv-superset` is a prerequisite of `make test`, like `.venv`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
from psycopg import sql

from sharewhy import settings

sys.path.insert(0, str(settings.REPO_ROOT))  # bi_tool/ is a top-level folder, not an installed package

from bi_tool import dashboards, provision  # noqa: E402

pytestmark = pytest.mark.e2e

NIGHT = "2026-11-25"
TEMPLATE = settings.STATE_DIR / "superset-test-template"
READER = "bi_reader"


def _demo_night(url: str, home: Path, reader_password: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SHAREWHY_HOME": str(home),
        "SHAREWHY_WAREHOUSE_URL": url,
        provision.READER_PASSWORD_ENV: reader_password,
    }
    for name in [k for k in env if k.startswith("AIRFLOW")]:
        del env[name]  # the demo prepares its own Airflow environment
    return subprocess.run(
        [sys.executable, "-m", "sharewhy.cli", "demo", "--night", NIGHT],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


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
        before = conn.execute("select rolcanlogin, rolpassword from pg_authid where rolname = %s", (READER,)).fetchone()
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
    viewer_password = f"viewer-{uuid.uuid4().hex}"
    home = tmp_path_factory.mktemp("superset-home")
    url, template_seconds = _demo_tenant(request, module_db, reader_password, tmp_path_factory)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(provision.READER_PASSWORD_ENV, reader_password)
        env.setenv(provision.ADMIN_PASSWORD_ENV, admin_password)
        env.setenv(provision.VIEWER_PASSWORD_ENV, viewer_password)
        started = time.monotonic()
        report = provision.provision(url, home=home, template=TEMPLATE)
        provision_seconds = time.monotonic() - started
        with provision.running(home) as base:
            session = provision.api_session(base, admin_password)
            yield {
                "base": base,
                "session": session,
                "report": report,
                "home": home,
                "url": url,
                "admin_password": admin_password,
                "reader_password": reader_password,
                "viewer_password": viewer_password,
                "seconds": {"template": template_seconds, "provision": provision_seconds},
            }
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
    connection = (
        superset["session"]
        .get(f"{superset['base']}/api/v1/database/{databases[0]['id']}/connection", timeout=60)
        .json()["result"]
    )
    assert connection["sqlalchemy_uri"].startswith(f"postgresql+psycopg2://{READER}@")
    assert connection["parameters"]["username"] == READER
    assert superset["reader_password"] not in json.dumps(connection)
    as_reader = psycopg.conninfo.make_conninfo(superset["url"], user=READER, password=superset["reader_password"])
    with psycopg.connect(as_reader) as conn:
        assert conn.execute("select has_schema_privilege(%s, 'bi', 'usage')", (READER,)).fetchone() == (True,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from raw._loads")


def test_the_dashboard_is_published_with_its_title_and_confidentiality_note(superset):
    response = superset["session"].get(f"{superset['base']}/api/v1/dashboard/{dashboards.DASHBOARD_SLUG}", timeout=60)
    response.raise_for_status()
    dashboard = response.json()["result"]
    assert dashboard["dashboard_title"] == dashboards.DASHBOARD_TITLE and dashboard["published"]
    assert "Confidentiality" in dashboard["position_json"]


def test_the_native_filters_target_their_datasets_and_filter_the_charts(superset):
    """Period, team and network filters reach Superset with their datasets and chart scopes remapped to the real
    ids, and the period filter (a calculated column, the same name in every month-grain dataset) filters a chart."""
    base, session = superset["base"], superset["session"]
    dashboard = session.get(f"{base}/api/v1/dashboard/{dashboards.DASHBOARD_SLUG}", timeout=60).json()["result"]
    configured = json.loads(dashboard["json_metadata"])["native_filter_configuration"]
    charts = {c["id"]: c["slice_name"] for c in provision.dashboard_charts(session, base)}
    datasets = {
        d["id"]: d["table_name"]
        for d in session.get(f"{base}/api/v1/dataset/?q=(page_size:100)", timeout=60).json()["result"]
    }
    assert [f["name"] for f in configured] == [native.name for native in dashboards.NATIVE_FILTERS]
    for native, spec in zip(dashboards.NATIVE_FILTERS, configured, strict=True):
        [target] = spec["targets"]
        assert (datasets[target["datasetId"]], target["column"]["name"]) == (native.source.model, native.column)
        in_scope = {charts[i] for i in charts if i not in spec["scope"]["excluded"]}
        assert in_scope == {chart.title for chart in native.charts()}, native.name
    totals = next(i for i, title in charts.items() if title == "Monthly totals by network")
    context = json.loads(session.get(f"{base}/api/v1/chart/{totals}", timeout=60).json()["result"]["query_context"])
    every = session.post(f"{base}/api/v1/chart/data", json={**context, "force": True}, timeout=120).json()
    periods = sorted({row["period"] for row in every["result"][0]["data"]})
    assert periods and all(re.fullmatch(r"\d{4}-\d{2}( \(partial: \d+ days\))?", p) for p in periods), periods
    context["queries"][0]["filters"].append({"col": "period", "op": "IN", "val": [periods[0]]})
    one = session.post(f"{base}/api/v1/chart/data", json={**context, "force": True}, timeout=120)
    assert one.status_code == 200, one.text[:500]
    assert {row["period"] for row in one.json()["result"][0]["data"]} == {periods[0]}


@pytest.mark.parametrize("user", [provision.ADMIN_USER, provision.VIEWER_USER])
def test_every_chart_renders_in_a_browser_without_error(superset, user, tmp_path):
    missing = [path for path in ("/usr/bin/chromium", "/usr/bin/chromedriver") if not Path(path).exists()]
    assert not missing, f"{', '.join(missing)} missing: `make browser` installs Debian's chromium and chromium-driver"
    out = tmp_path / "dashboard.png"
    env = provision.superset_env(
        superset["home"],
        SHAREWHY_SUPERSET_ADMIN_PASSWORD=superset["admin_password"],
        SHAREWHY_SCREENSHOT_USER=user,
        SHAREWHY_SCREENSHOT_PASSWORD=superset[f"{user}_password"],
    )
    result = subprocess.run(
        [
            str(provision.SUPERSET_BIN / "python"),
            str(provision.BI_TOOL_DIR / "screenshot.py"),
            provision.dashboard_url(superset["base"]),
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"screenshot of {len(dashboards.CHARTS)} charts" in result.stdout
    assert out.stat().st_size > 10_000


# --- the stakeholders' read-only login -------------------------------------------------------------------------------

REFUSED = (401, 403)


@pytest.fixture(scope="module")
def viewer(superset):
    """The viewer logged in to the REST API (bearer token and CSRF token, like the admin's session)."""
    return provision.api_session(superset["base"], superset["viewer_password"], username=provision.VIEWER_USER)


def _role_permissions(home: Path, role: str) -> set[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(home / "superset.db")) as db:
        return set(
            db.execute(
                "select p.name, v.name from ab_role r"
                " join ab_permission_view_role pvr on pvr.role_id = r.id"
                " join ab_permission_view pv on pv.id = pvr.permission_view_id"
                " join ab_permission p on p.id = pv.permission_id join ab_view_menu v on v.id = pv.view_menu_id"
                " where r.name = ?",
                (role,),
            )
        )


def _users(home: Path, username: str) -> list[tuple[int, str]]:
    """(user id, role name) for every role of every user called `username`."""
    with contextlib.closing(sqlite3.connect(home / "superset.db")) as db:
        return db.execute(
            "select u.id, r.name from ab_user u left join ab_user_role ur on ur.user_id = u.id"
            " left join ab_role r on r.id = ur.role_id where u.username = ? order by 1, 2",
            (username,),
        ).fetchall()


def test_the_viewer_gets_every_chart_data_the_admin_gets(superset, viewer):
    as_admin = provision.run_chart_queries(superset["session"], superset["base"])
    as_viewer = provision.run_chart_queries(viewer, superset["base"])
    assert sorted(as_viewer) == sorted(chart.title for chart in dashboards.CHARTS)
    failing = {title: r for title, r in as_viewer.items() if r["status"] != 200 or r["rowcount"] <= 0}
    assert not failing, json.dumps(failing, indent=2)
    assert {title: r["rowcount"] for title, r in as_viewer.items()} == {
        title: r["rowcount"] for title, r in as_admin.items()
    }


def _browser_login(base: str, username: str, password: str) -> tuple[requests.Session, requests.Response]:
    """Logged in through the login form, as a browser does: (the cookie session, the page it landed on)."""
    browser = requests.Session()
    page = browser.get(f"{base}/login/", timeout=60).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"', page)
    assert token, "no CSRF token on the login page"
    landed = browser.post(
        f"{base}/login/",
        timeout=60,
        data={"username": username, "password": password, "csrf_token": token.group(1) or token.group(2)},
    )
    return browser, landed


def test_the_viewer_logs_in_through_the_login_page_and_lands_on_the_dashboard(superset):
    """What a stakeholder does in a browser, without one: the login form, then Superset's pages (the admin's
    answers show each page is there to be refused)."""
    base = superset["base"]
    admin, _ = _browser_login(base, provision.ADMIN_USER, superset["admin_password"])
    viewer, landed = _browser_login(base, provision.VIEWER_USER, superset["viewer_password"])
    assert landed.status_code == 200 and landed.url == provision.dashboard_url(base)
    assert viewer.get(provision.dashboard_url(base), timeout=60, allow_redirects=False).status_code == 200
    for path in ("/sqllab/", "/databaseview/list/", "/users/list/"):
        assert viewer.get(f"{base}{path}", timeout=60, allow_redirects=False).status_code in REFUSED, path
        assert admin.get(f"{base}{path}", timeout=60, allow_redirects=False).status_code == 200, path
    _, wrong = _browser_login(base, provision.VIEWER_USER, "not-the-password")
    assert "/login/" in wrong.url


def test_the_viewer_cannot_edit_a_chart(superset, viewer):
    base, admin = superset["base"], superset["session"]
    chart = provision.dashboard_charts(admin, base)[0]
    url = f"{base}/api/v1/chart/{chart['id']}"
    assert viewer.put(url, json={"slice_name": "Edited by a viewer"}, timeout=60).status_code in REFUSED
    assert admin.get(url, timeout=60).json()["result"]["slice_name"] == chart["slice_name"]
    # the same request is a valid edit when the admin sends it (here: the title it already has)
    assert admin.put(url, json={"slice_name": chart["slice_name"]}, timeout=60).status_code == 200


def test_the_viewer_cannot_delete_the_dashboard(superset, viewer):
    base, admin = superset["base"], superset["session"]
    dashboard = admin.get(f"{base}/api/v1/dashboard/{dashboards.DASHBOARD_SLUG}", timeout=60).json()["result"]
    response = viewer.delete(f"{base}/api/v1/dashboard/{dashboard['id']}", timeout=60, allow_redirects=False)
    assert response.status_code in REFUSED, response.text[:500]
    assert admin.get(f"{base}/api/v1/dashboard/{dashboard['id']}", timeout=60).status_code == 200


def test_the_viewer_cannot_use_sql_lab(superset, viewer):
    base, admin = superset["base"], superset["session"]
    database = admin.get(f"{base}/api/v1/database/", timeout=60).json()["result"][0]
    query = {
        "database_id": database["id"],
        "sql": "select count(*) as n from bi.advocacy_kpis",
        "runAsync": False,
        "schema": settings.BI_SCHEMA,
    }
    response = viewer.post(f"{base}/api/v1/sqllab/execute/", json=query, timeout=120)
    assert response.status_code in REFUSED, response.text[:500]
    as_admin = admin.post(f"{base}/api/v1/sqllab/execute/", json=query, timeout=120)
    assert as_admin.status_code == 200, as_admin.text[:500]


def test_the_viewer_can_neither_list_nor_create_databases(superset, viewer):
    base, admin = superset["base"], superset["session"]
    assert viewer.get(f"{base}/api/v1/database/", timeout=60).status_code in REFUSED
    new = {"database_name": "created by a viewer", "sqlalchemy_uri": "postgresql+psycopg2://nobody@127.0.0.1:9/none"}
    response = viewer.post(f"{base}/api/v1/database/", json=new, timeout=60)
    assert response.status_code in REFUSED, response.text[:500]
    # the admin may: the same request goes on to the connection test (which fails: nothing listens there)
    assert admin.post(f"{base}/api/v1/database/", json=new, timeout=60).status_code not in REFUSED
    names = [d["database_name"] for d in admin.get(f"{base}/api/v1/database/", timeout=60).json()["result"]]
    assert names == [dashboards.DATABASE_NAME]


def test_the_viewer_cannot_administer_users_or_read_datasets(superset, viewer):
    base, admin = superset["base"], superset["session"]
    for path in ("/api/v1/security/users/", "/api/v1/security/roles/", "/api/v1/dataset/"):
        assert viewer.get(f"{base}{path}", timeout=60).status_code in REFUSED, path
        assert admin.get(f"{base}{path}", timeout=60).status_code == 200, path


def test_the_viewer_role_is_gammas_viewing_part_and_the_bi_datasets_only(superset):
    viewer = _role_permissions(superset["home"], provision.VIEWER_ROLE)
    gamma = _role_permissions(superset["home"], "Gamma")
    data = viewer - gamma
    assert {permission for permission, _ in data} == {"datasource_access"}
    assert sorted(re.sub(r"\(id:\d+\)$", "", view) for _, view in data) == sorted(
        f"[{dashboards.DATABASE_NAME}].[{dataset.model}]" for dataset in dashboards.DATASETS
    )
    writes = {(p, v) for p, v in viewer if p in ("can_write", "can_delete", "can_add", "can_edit", "muldelete")}
    assert writes <= {("can_write", "DashboardFilterStateRestApi")}  # one's own filter state, not the dashboard
    assert not {v for _, v in viewer} & {"Database", "SQLLab", "Dataset", "Explore", "User", "Role"}


def test_provisioning_again_keeps_one_viewer_and_repairs_its_role(superset, viewer):
    """Someone grants the viewer Admin in Superset's UI and adds a permission to its role: the next provisioning
    (what `make bi` runs) puts both back, with one viewer user and one viewer role as before."""
    home, base, admin = superset["home"], superset["base"], superset["session"]
    before = _role_permissions(home, provision.VIEWER_ROLE)
    [(user_id, _)] = _users(home, provision.VIEWER_USER)
    roles = {
        r["name"]: r["id"]
        for r in admin.get(f"{base}/api/v1/security/roles/?q=(page_size:100)", timeout=60).json()["result"]
    }
    granted = admin.put(
        f"{base}/api/v1/security/users/{user_id}",
        timeout=60,
        json={"roles": [roles["Admin"], roles[provision.VIEWER_ROLE]]},
    )
    assert granted.status_code == 200, granted.text[:500]
    assert _users(home, provision.VIEWER_USER) == [(user_id, "Admin"), (user_id, provision.VIEWER_ROLE)]
    with contextlib.closing(sqlite3.connect(home / "superset.db")) as db, db:
        db.execute(
            "insert into ab_permission_view_role (permission_view_id, role_id)"
            " select pv.id, (select id from ab_role where name = ?) from ab_permission_view pv"
            " join ab_permission p on p.id = pv.permission_id join ab_view_menu v on v.id = pv.view_menu_id"
            " where p.name = 'can_write' and v.name = 'Dashboard'",
            (provision.VIEWER_ROLE,),
        )
    assert ("can_write", "Dashboard") in _role_permissions(home, provision.VIEWER_ROLE)
    with open(provision.log_path(home), "a") as log:
        provision.import_bundle(
            home,
            superset["url"],
            superset["admin_password"],
            superset["viewer_password"],
            superset["reader_password"],
            log,
        )
    assert _users(home, provision.VIEWER_USER) == [(user_id, provision.VIEWER_ROLE)]
    assert _role_permissions(home, provision.VIEWER_ROLE) == before
    with contextlib.closing(sqlite3.connect(home / "superset.db")) as db:
        assert db.execute("select count(*) from ab_role where name = ?", (provision.VIEWER_ROLE,)).fetchone() == (1,)
    again = provision.api_session(base, superset["viewer_password"], username=provision.VIEWER_USER)
    assert again.get(f"{base}/api/v1/database/", timeout=60).status_code in REFUSED


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
        provision.import_bundle(
            superset["home"],
            superset["url"],
            superset["admin_password"],
            superset["viewer_password"],
            superset["reader_password"],
            log,
            bundle_dir=edited,
        )
    after = charts()
    assert after.keys() == before.keys() and len(after) == len(dashboards.CHARTS)
    assert "Renamed in code" in after.values() and chart.title not in after.values()
