"""Provision and serve Apache Superset over the warehouse's `bi` schema (runs in .venv; Superset in .venv-superset).

`python -m bi_tool.provision serve` (what `make bi` runs):
1. the warehouse: `SHAREWHY_WAREHOUSE_URL`, or the embedded one (started if needed); `bi` must be published;
2. the `bi_reader` role: LOGIN with its password, USAGE on `bi`, SELECT on its views — done the way the publish
   does it (`sharewhy.warehouse_access`), so the two never disagree;
3. Superset's home `$SHAREWHY_HOME/superset/` (git-ignored): SECRET_KEY generated there on first use, the SQLite
   metadata database (`superset db upgrade` + `superset init`, only when it does not exist yet), the admin user;
4. the import of the committed bundle (bi_tool/bundle/): the database connection as `bi_reader` over the
   warehouse (a unix socket for the embedded one), the datasets over `bi.*`, the charts, the dashboard; then the
   stakeholders' read-only login `viewer` (role `sharewhy_viewer`: the dashboard and its datasets, nothing else);
5. Superset under gunicorn, bound to 127.0.0.1 only.

Passwords: the admin's from `SHAREWHY_SUPERSET_ADMIN_PASSWORD`, the viewer's from
`SHAREWHY_SUPERSET_VIEWER_PASSWORD`, the reader's from `SHAREWHY_BI_READER_PASSWORD`; each one unset is generated
on first use and kept in the Superset home (mode 0600), so runs agree with each other.
They reach the Superset processes through their environment only, never their command line.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
import psycopg.conninfo

from bi_tool import dashboards
from sharewhy import ports, settings, warehouse_access

BI_TOOL_DIR = Path(__file__).resolve().parent
SUPERSET_VENV = settings.REPO_ROOT / ".venv-superset"
SUPERSET_BIN = SUPERSET_VENV / "bin"
CONFIG_PATH = BI_TOOL_DIR / "superset_config.py"

HOME = settings.STATE_DIR / "superset"
DEFAULT_PORT = 8088

ADMIN_USER = "admin"
ADMIN_PASSWORD_ENV = "SHAREWHY_SUPERSET_ADMIN_PASSWORD"
#: The stakeholders' read-only login (see bi_tool/import_assets.py for what its role holds).
VIEWER_USER = "viewer"
VIEWER_ROLE = "sharewhy_viewer"
VIEWER_PASSWORD_ENV = "SHAREWHY_SUPERSET_VIEWER_PASSWORD"
READER_PASSWORD_ENV = "SHAREWHY_BI_READER_PASSWORD"
PORT_ENV = "SHAREWHY_SUPERSET_PORT"

#: Written into the home once `superset db upgrade` and `superset init` succeeded (with the Superset version).
_INITIALISED = ".initialised"


class NotReady(RuntimeError):
    """Something Superset needs is missing (the virtual environment, the published `bi` schema, …)."""


@dataclass
class Report:
    """What a provisioning did: one (label, seconds) per step, and how to log in."""

    steps: list[tuple[str, float]] = field(default_factory=list)
    admin_password: str = ""
    admin_password_source: str = ""
    viewer_password: str = ""
    viewer_password_source: str = ""
    views: list[str] = field(default_factory=list)
    missing_views: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def step(self, label: str):
        started = time.monotonic()
        yield
        self.steps.append((label, time.monotonic() - started))
        print(f"  {label:<40} {'ok':<7} {time.monotonic() - started:6.1f} s", flush=True)


# --- secrets in the home ------------------------------------------------------------------------------------------------


def _private_file(path: Path, make) -> str:
    """The content of `path`, created by `make()` with mode 0600 when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(make() + "\n")
    return path.read_text().strip()


def shown(path: Path) -> str:
    """A path as the README shows it: relative to the repository when inside it."""
    try:
        return str(path.relative_to(settings.REPO_ROOT))
    except ValueError:
        return str(path)


def _password(env: str, home: Path, name: str) -> tuple[str, str]:
    """(password, where it came from): the environment, else generated once into the home."""
    if os.environ.get(env):
        return os.environ[env], f"from ${env}"
    path = home / name
    return _private_file(path, lambda: secrets.token_urlsafe(18)), f"generated, kept in {shown(path)}"


def log_path(home: Path) -> Path:
    """Where everything Superset prints goes (init, import, gunicorn)."""
    return home / "superset.log"


def prepare_home(home: Path = HOME) -> None:
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)
    _private_file(home / "secret_key", lambda: secrets.token_urlsafe(48))


def superset_env(home: Path = HOME, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SUPERSET_HOME": str(home),
        "SUPERSET_CONFIG_PATH": str(CONFIG_PATH),
        "FLASK_APP": "superset.app:create_app()",
        "PYTHONUNBUFFERED": "1",
        "SHAREWHY_SUPERSET_LANDING": f"/superset/dashboard/{dashboards.DASHBOARD_SLUG}/",
        **extra,
    }
    # the caller's venv and warehouse stay out; so do compose's metadata database and SECRET_KEY (superset_config.py)
    for name in (
        "PYTHONPATH",
        "VIRTUAL_ENV",
        "SHAREWHY_WAREHOUSE_URL",
        "SUPERSET_SECRET_KEY",
        "SHAREWHY_SUPERSET_METADATA_URI",
    ):
        env.pop(name, None)
    return env


def _require_venv() -> None:
    if not (SUPERSET_BIN / "superset").exists():
        raise NotReady(f"{SUPERSET_VENV} is missing: `make bi` (or `make superset-install`) creates it")


# --- the warehouse side --------------------------------------------------------------------------------------------------


def sqlalchemy_uri(warehouse_url: str, user: str = "bi_reader") -> str:
    """Superset's SQLAlchemy URI for the warehouse as `user`, without password. A unix-socket host (a directory)
    goes into the query string: postgresql+psycopg2://bi_reader@/sharewhy?host=/path/to/socketdir."""
    params = psycopg.conninfo.conninfo_to_dict(warehouse_url)
    host, port, dbname = params.get("host") or "", params.get("port") or "", params.get("dbname") or "sharewhy"
    query = {
        key: str(value)
        for key, value in params.items()
        if key in ("sslmode", "sslrootcert", "connect_timeout", "application_name") and value
    }
    if host.startswith("/") or not host:
        netloc = ""
        if host:
            query = {"host": host, **({"port": str(port)} if port else {}), **query}
    else:
        netloc = host + (f":{port}" if port else "")
    qs = "&".join(f"{key}={quote(value, safe='/')}" for key, value in query.items())
    return f"postgresql+psycopg2://{quote(user, safe='')}@{netloc}/{quote(str(dbname), safe='')}" + (
        f"?{qs}" if qs else ""
    )


def published_views(conn: psycopg.Connection) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = %s and c.relkind = 'v' order by 1",
            (settings.BI_SCHEMA,),
        )
    ]


def ensure_bi_reader(warehouse_url: str, password: str) -> list[str]:
    """`bi_reader` with LOGIN and `password`, USAGE on `bi`, SELECT on its views; return the views of `bi`."""
    previous = os.environ.get(warehouse_access.PASSWORD_ENV)
    os.environ[warehouse_access.PASSWORD_ENV] = password
    try:
        with psycopg.connect(warehouse_url, autocommit=True) as conn, conn.transaction():
            views = published_views(conn)
            if not views:
                raise NotReady("the warehouse has no published `bi` views yet: run `make demo` first")
            warehouse_access.ensure_role(conn)
            warehouse_access.grant_read_on_bi(conn)
    finally:
        if previous is None:
            os.environ.pop(warehouse_access.PASSWORD_ENV, None)
        else:
            os.environ[warehouse_access.PASSWORD_ENV] = previous
    return views


# --- Superset's metadata database -------------------------------------------------------------------------------------


def _superset_version() -> str:
    out = subprocess.run(
        [str(SUPERSET_BIN / "python"), "-c", "import importlib.metadata as m; print(m.version('apache-superset'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def _run(command: list[str], env: dict[str, str], log) -> None:
    log.write(f"\n===== {' '.join(command)}\n")
    log.flush()
    result = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.REPO_ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"`{' '.join(command[-2:])}` failed (exit {result.returncode}): see {log.name}")


def is_initialised(home: Path) -> bool:
    stamp = home / _INITIALISED
    return stamp.exists() and (home / "superset.db").exists() and stamp.read_text().strip() == _superset_version()


def initialise(home: Path, log, template: Path | None = None) -> bool:
    """Create the metadata database unless it exists; return whether it had to. With `template` (an initialised
    home), the database is copied from there instead of migrated again (the tests use this)."""
    if is_initialised(home):
        return False
    version = _superset_version()
    if template is not None:
        prepare_home(template)
        if not is_initialised(template):
            initialise(template, log)
        shutil.copyfile(template / "superset.db", home / "superset.db")
    else:
        (home / "superset.db").unlink(missing_ok=True)
        env = superset_env(home)
        _run([str(SUPERSET_BIN / "superset"), "db", "upgrade"], env, log)
        _run([str(SUPERSET_BIN / "superset"), "init"], env, log)
    (home / _INITIALISED).write_text(version + "\n")
    return True


def import_bundle(
    home: Path,
    warehouse_url: str,
    admin_password: str,
    viewer_password: str,
    reader_password: str,
    log,
    bundle_dir: Path = dashboards.BUNDLE_DIR,
) -> None:
    env = superset_env(
        home,
        **{
            ADMIN_PASSWORD_ENV: admin_password,
            VIEWER_PASSWORD_ENV: viewer_password,
            READER_PASSWORD_ENV: reader_password,
            "SHAREWHY_SUPERSET_DB_URI": sqlalchemy_uri(warehouse_url),
        },
    )
    command = [
        str(SUPERSET_BIN / "python"),
        str(BI_TOOL_DIR / "import_assets.py"),
        str(bundle_dir),
        dashboards.DATABASE_FILE,
    ]
    log.write(f"\n===== {' '.join(command)}\n")
    log.flush()
    result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=log, text=True, cwd=settings.REPO_ROOT)
    log.write(result.stdout)
    if result.returncode != 0:
        raise RuntimeError(f"the import of the dashboard bundle failed (exit {result.returncode}): see {log.name}")


def provision(warehouse_url: str, home: Path = HOME, template: Path | None = None) -> Report:
    """Everything but serving: the reader role, the home, the metadata database, the admin, the dashboard, the
    viewer."""
    _require_venv()
    report = Report()
    prepare_home(home)
    admin_password, report.admin_password_source = _password(ADMIN_PASSWORD_ENV, home, "admin_password")
    report.admin_password = admin_password
    viewer_password, report.viewer_password_source = _password(VIEWER_PASSWORD_ENV, home, "viewer_password")
    report.viewer_password = viewer_password
    reader_password, _ = _password(READER_PASSWORD_ENV, home, "bi_reader_password")
    with open(log_path(home), "a") as log:
        with report.step("bi_reader role and grants on bi"):
            report.views = ensure_bi_reader(warehouse_url, reader_password)
        needed = sorted({dataset.model for dataset in dashboards.DATASETS})
        report.missing_views = [view for view in needed if view not in report.views]
        label = "superset metadata database"
        started = time.monotonic()
        created = initialise(home, log, template)
        report.steps.append((label, time.monotonic() - started))
        print(f"  {label:<40} {'created' if created else 'exists':<7} {time.monotonic() - started:6.1f} s", flush=True)
        with report.step("admin, dashboard import, viewer role"):
            import_bundle(home, warehouse_url, admin_password, viewer_password, reader_password, log)
    for view in report.missing_views:
        print(f"  WARNING: bi.{view} is not published in this warehouse: its charts will show an error")
    return report


# --- serving ----------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Superset exited with code {process.returncode} while starting: see {log}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Superset did not answer on {url}/health within {timeout:.0f} s: see {log}")


def start(home: Path, port: int, log) -> subprocess.Popen:
    """gunicorn serving Superset on 127.0.0.1:`port` (one worker, a few threads: ≈ 300 MB)."""
    command = [
        str(SUPERSET_BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--timeout",
        "120",
        "--limit-request-line",
        "0",
        "--limit-request-field_size",
        "0",
        "superset.app:create_app()",
    ]
    log.write(f"\n===== {' '.join(command)}\n")
    log.flush()
    env = superset_env(home, SHAREWHY_SUPERSET_URL=f"http://127.0.0.1:{port}/")
    return subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.REPO_ROOT, start_new_session=True
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def running(home: Path = HOME, port: int | None = None):
    """Superset serving `home` on 127.0.0.1 for the duration of the block; yields its base URL."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path(home), "a") as log:
        process = start(home, port, log)
        try:
            _wait_healthy(url, process, log_path(home))
            yield url
        finally:
            stop(process)


def dashboard_url(base_url: str) -> str:
    return f"{base_url}/superset/dashboard/{dashboards.DASHBOARD_SLUG}/"


def api_session(base_url: str, password: str, username: str = ADMIN_USER):
    """A requests session logged in to Superset's REST API (bearer token), with the CSRF token that Superset
    asks of every POST and PUT but the chart data query (so a refusal is about permissions, not the token)."""
    import requests

    session = requests.Session()
    response = session.post(
        f"{base_url}/api/v1/security/login",
        timeout=60,
        json={"username": username, "password": password, "provider": "db", "refresh": False},
    )
    response.raise_for_status()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    response = session.get(f"{base_url}/api/v1/security/csrf_token/", timeout=60)
    response.raise_for_status()
    session.headers["X-CSRFToken"] = response.json()["result"]
    return session


def dashboard_charts(session, base_url: str) -> list[dict]:
    """The dashboard's charts as Superset has them: id, uuid-less API form (slice_name, viz_type, form_data)."""
    response = session.get(f"{base_url}/api/v1/dashboard/{dashboards.DASHBOARD_SLUG}/charts", timeout=60)
    response.raise_for_status()
    return response.json()["result"]


def run_chart_queries(session, base_url: str) -> dict[str, dict]:
    """Run every dashboard chart's saved query through `POST /api/v1/chart/data` with `force: true` (no cache):
    chart title → {"status": HTTP status, "rowcount": rows of its first query, "error": message or None}."""
    import json

    results = {}
    for chart in dashboard_charts(session, base_url):
        detail = session.get(f"{base_url}/api/v1/chart/{chart['id']}", timeout=60)
        detail.raise_for_status()
        query_context = json.loads(detail.json()["result"]["query_context"])
        query_context["force"] = True
        response = session.post(f"{base_url}/api/v1/chart/data", json=query_context, timeout=120)
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        result = (body.get("result") or [{}])[0]
        results[chart["slice_name"]] = {
            "status": response.status_code,
            "rowcount": result.get("rowcount", 0),
            "error": result.get("error") or body.get("message") or (None if response.ok else response.text[:500]),
        }
    return results


# --- command line -----------------------------------------------------------------------------------------------------


def _warehouse_url() -> str:
    url = settings.external_warehouse_url()
    if url:
        return url
    from sharewhy_dev import warehouse

    return warehouse.start()


def _provision_verbose() -> tuple[str, Report]:
    print("sharewhy bi — Apache Superset over the published bi schema")
    url = _warehouse_url()
    started = time.monotonic()
    report = provision(url)
    print(
        f"  provisioned in {time.monotonic() - started:.1f} s over {len(report.views)} bi views "
        f"(Superset's log: {shown(log_path(HOME))})"
    )
    return url, report


def _stop_on_signal(signum, frame):
    raise KeyboardInterrupt


def _serve(port: int) -> int:
    # Ctrl-C, and SIGTERM too, stop Superset cleanly (also where SIGINT came in ignored, as in background jobs).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    ports.exit_if_taken([(port, "make bi PORT={port}")], "sharewhy bi")
    _, report = _provision_verbose()
    base = f"http://127.0.0.1:{port}"
    with open(log_path(HOME), "a") as log:
        started = time.monotonic()
        process = start(HOME, port, log)
        try:
            _wait_healthy(base, process, log_path(HOME))
            print(f"  {f'superset on 127.0.0.1:{port}':<40} {'ok':<7} {time.monotonic() - started:6.1f} s\n")
            print(f"  Dashboard:  {dashboard_url(base)}")
            print(f"  Log in as:  {ADMIN_USER} / {report.admin_password}   (password {report.admin_password_source})")
            print(
                f"  Read-only:  {VIEWER_USER} / {report.viewer_password}   (for stakeholders: the dashboard only; "
                f"password {report.viewer_password_source})"
            )
            print("  Ctrl-C stops Superset (the home and its metadata stay for the next `make bi`).", flush=True)
            process.wait()
        except KeyboardInterrupt:
            print("\nstopping Superset")
        finally:
            stop(process)
    return 0


#: Where `make bi-screenshot` writes by default (untracked), and the README's images (`make bi-screenshot README=1`).
SCREENSHOT_DIR = settings.STATE_DIR / "screenshots"
README_SCREENSHOTS = {
    ADMIN_USER: BI_TOOL_DIR / "dashboard-admin.png",
    VIEWER_USER: BI_TOOL_DIR / "dashboard-viewer.png",
}


def screenshot_paths(out_dir: Path | None, readme: bool) -> dict[str, Path]:
    """user → PNG: the README's tracked images only when asked (`readme`), else `<out_dir>/dashboard-<user>.png`."""
    if readme:
        return dict(README_SCREENSHOTS)
    directory = out_dir or SCREENSHOT_DIR
    return {user: directory / f"dashboard-{user}.png" for user in (ADMIN_USER, VIEWER_USER)}


def _screenshot(paths: dict[str, Path]) -> int:
    missing = [path for path in ("/usr/bin/chromium", "/usr/bin/chromedriver") if not Path(path).exists()]
    if missing:
        print(
            f"missing {', '.join(missing)}: `make browser` installs them (apt-get install -y chromium chromium-driver)",
            file=sys.stderr,
        )
        return 1
    _, report = _provision_verbose()
    failed = 0
    with running(HOME) as base:
        for user, out in paths.items():
            password = report.admin_password if user == ADMIN_USER else report.viewer_password
            env = superset_env(
                HOME,
                SHAREWHY_SUPERSET_ADMIN_PASSWORD=report.admin_password,
                SHAREWHY_SCREENSHOT_USER=user,
                SHAREWHY_SCREENSHOT_PASSWORD=password,
            )
            command = [str(SUPERSET_BIN / "python"), str(BI_TOOL_DIR / "screenshot.py"), dashboard_url(base), str(out)]
            print(f"as {user}: ", end="", flush=True)
            failed |= subprocess.run(command, env=env, cwd=settings.REPO_ROOT).returncode
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bi_tool.provision", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="action", required=True)
    commands.add_parser("provision", help="provision Superset's home and the dashboard, do not serve")
    serve = commands.add_parser("serve", help="provision, then serve Superset on 127.0.0.1 until Ctrl-C")
    serve.add_argument("--port", type=int, default=int(os.environ.get(PORT_ENV, DEFAULT_PORT)))
    shot = commands.add_parser(
        "screenshot", help="provision, serve on a free port, screenshot the dashboard as the admin and as the viewer"
    )
    where = shot.add_mutually_exclusive_group()
    where.add_argument(
        "--out-dir", type=Path, default=None, help=f"where the PNGs go (default {SCREENSHOT_DIR}, untracked)"
    )
    where.add_argument(
        "--readme",
        action="store_true",
        help="rewrite the README's tracked images: "
        + ", ".join(str(p.relative_to(settings.REPO_ROOT)) for p in README_SCREENSHOTS.values()),
    )
    args = parser.parse_args(argv)
    try:
        if args.action == "provision":
            _provision_verbose()
            return 0
        if args.action == "serve":
            return _serve(args.port)
        return _screenshot(screenshot_paths(args.out_dir, args.readme))
    except NotReady as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
