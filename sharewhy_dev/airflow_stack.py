"""A local Airflow 3 stack for sharewhy: api-server, scheduler, dag-processor and triggerer, on 127.0.0.1 only.

`sharewhy airflow up` (`make airflow`) runs it in the foreground over the project's DAGs, with the embedded
warehouse, the source simulator (its connections) and the webhook receiver; Ctrl-C or `sharewhy airflow stop`
(`make airflow-stop`) stops every process it started, children included. The orchestration tests start the same
services through `AirflowStack` against a throwaway home and metadata database.

Why not `airflow standalone`: it binds its log servers to 0.0.0.0 and leaves orphans behind. Here every service is
started on its own: `api-server --host 127.0.0.1`, `scheduler --skip-serve-logs`, `dag-processor`,
`triggerer --skip-serve-logs`; LocalExecutor with `[core] parallelism = 2`, or CeleryExecutor (`--executor celery`)
with `celery worker --skip-serve-logs` processes taking tasks from a Redis broker already running (every service
of the stack is on this machine, so the api-server reads task logs from the shared log folder and no worker needs a
log server); SimpleAuthManager, whose generated
password Airflow keeps in its own passwords file in the Airflow home (printed at start, stored nowhere else).
The metadata database is PostgreSQL: a database `airflow` on the warehouse's server (embedded, unix socket only),
unless AIRFLOW__DATABASE__SQL_ALCHEMY_CONN says otherwise. SQLite would serialise four writers on one file lock.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import psutil
import psycopg
import psycopg.conninfo

from sharewhy import consent, ports, settings
from sharewhy.airflow_api import FINISHED_STATES, AirflowApi
from sharewhy_dev import processes, simulated_sources

HOST = "127.0.0.1"
SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}
WORKER_PREFIX = "celery-worker-"
POOLS_FILE = settings.DAGS_DIR / "pipeline" / "pools.json"
ADMIN = "admin"
STATE_FILE_NAME = "stack.json"


def sqlalchemy_url(conninfo: str) -> str:
    """A libpq URL or conninfo as the SQLAlchemy URL Airflow's metadata database setting takes (psycopg2)."""
    from urllib.parse import quote

    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    user = quote(str(params.get("user") or ""), safe="")
    password = params.get("password")
    auth = f"{user}:{quote(str(password), safe='')}@" if password else (f"{user}@" if user else "")
    host, port, dbname = str(params.get("host") or ""), params.get("port"), quote(str(params["dbname"]), safe="")
    if not host or host.startswith("/"):  # unix socket
        query = "&".join(f"{k}={quote(str(v), safe='/')}" for k, v in (("host", host), ("port", port)) if v)
        return f"postgresql+psycopg2://{auth}/{dbname}" + (f"?{query}" if query else "")
    return f"postgresql+psycopg2://{auth}{host}{f':{port}' if port else ''}/{dbname}"


def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` on the server of `server_url` if it is missing; its conninfo."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            conn.execute(f'create database "{name}"')
    return settings.with_database(server_url, name)


def airflow_env(
    home: Path, port: int, metadata_url: str, extra: dict[str, str] | None = None, executor: str = "local"
) -> dict[str, str]:
    """The environment every Airflow service and CLI call of the stack shares.

    With `executor="celery"`: CeleryExecutor over settings.CELERY_BROKER_URL, its results in the metadata database,
    and a queue of the stack's own (named after its home), so two stacks on one broker never take each other's
    tasks; `[core] parallelism` then lets every worker's processes run at once."""
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": EXECUTORS[executor],
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{port}/execution/",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://{HOST}:{port}",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",  # its health server would be one more port
        "DO_NOT_TRACK": "1",
        "NO_COLOR": "1",
    }
    if executor == "celery":
        env.update(
            {
                "AIRFLOW__CELERY__BROKER_URL": settings.CELERY_BROKER_URL,
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_url,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(settings.CELERY_WORKER_CONCURRENCY),
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": celery_queue(home),
                "AIRFLOW__CORE__PARALLELISM": "32",
            }
        )
    env.update(extra or {})
    return env


def celery_queue(home: Path) -> str:
    """The Celery queue of the stack over `home`: its own, so stacks sharing a broker stay apart."""
    import hashlib

    return "sharewhy-" + hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:12]


def celery_workers(count: int) -> tuple[str, ...]:
    """The service names of `count` Celery workers."""
    return tuple(f"{WORKER_PREFIX}{n}" for n in range(1, count + 1))


def airflow_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("airflow")), *args]


def run_airflow(env: dict[str, str], *args: str, log: IO[str] | None = None, timeout: float = 300) -> None:
    """One Airflow CLI call (3–4 s of import each); CalledProcessError with its output when it fails."""
    result = subprocess.run(
        airflow_command(*args), env=env, capture_output=True, text=True, timeout=timeout, cwd=settings.REPO_ROOT
    )
    if log is not None:
        log.write(f"\n===== airflow {' '.join(args)}\n{result.stdout}{result.stderr}")
        log.flush()
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, result.args, result.stdout, result.stderr)


def _service_command(service: str, port: int, home: Path | None = None) -> list[str]:
    if service.startswith(WORKER_PREFIX):
        assert home is not None, "a Celery worker needs the stack's home (its queue, its pid file)"
        return airflow_command(
            "celery",
            "worker",
            "--skip-serve-logs",
            "--celery-hostname",
            f"{service}@%h",
            "--queues",
            celery_queue(home),
            "--pid",
            str(home / f"{service}.pid"),
        )
    if service == "api-server":
        return airflow_command("api-server", "--host", HOST, "--port", str(port), "--workers", "1")
    if service in ("scheduler", "triggerer"):
        return airflow_command(service, "--skip-serve-logs")
    return airflow_command(service)


@dataclass
class AirflowStack:
    """The Airflow services over one Airflow home; `start()`, `api()`, `stop()` (or a `with` block)."""

    home: Path
    port: int
    env: dict[str, str]
    services: tuple[str, ...] = SERVICES
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    _logs: list[IO[str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log_dir(self) -> Path:
        return self.home / "services"

    def prepare(self, log: IO[str] | None = None) -> None:
        """`airflow db migrate` (idempotent)."""
        self.home.mkdir(parents=True, exist_ok=True)
        run_airflow(self.env, "db", "migrate", log=log)

    def start(self, timeout: float = 120.0) -> None:
        """Start the services, each in a process group of its own, wait until the API answers, and create or update
        the pools of `dags/pipeline/pools.json` (what `airflow pools import` would do, without one more CLI start)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service in self.services:
            out = open(self.log_dir / f"{service}.log", "a")  # noqa: SIM115 - closed in stop()
            self._logs.append(out)
            self.processes[service] = subprocess.Popen(
                _service_command(service, self.port, self.home),
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=settings.REPO_ROOT,
                start_new_session=True,
            )
        self._write_state()
        deadline = time.monotonic() + timeout
        probe = AirflowApi(self.url, ADMIN, "")
        while not probe.healthy():
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"the api-server did not answer within {timeout:.0f} s; see {self.log_dir}")
            time.sleep(0.5)
        self.api().set_pools(json.loads(POOLS_FILE.read_text()))

    def check_alive(self) -> None:
        for service, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"airflow {service} exited with {process.returncode}; see {self.log_dir / f'{service}.log'}"
                )

    def password(self) -> str:
        """The admin password SimpleAuthManager generated (kept by Airflow in its passwords file)."""
        path = self.home / "simple_auth_manager_passwords.json.generated"
        deadline = time.monotonic() + 30
        while True:
            with suppress(FileNotFoundError, ValueError):
                passwords = json.loads(path.read_text() or "{}")
                if ADMIN in passwords:
                    return passwords[ADMIN]
            if time.monotonic() > deadline:
                raise RuntimeError(f"no password for {ADMIN!r} in {path}")
            time.sleep(0.2)

    def api(self) -> AirflowApi:
        return AirflowApi(self.url, ADMIN, self.password())

    def stop(self) -> None:
        processes.kill_trees([process.pid for process in self.processes.values()])
        for process in self.processes.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        for out in self._logs:
            out.close()
        self._logs.clear()
        with suppress(FileNotFoundError):
            (self.home / STATE_FILE_NAME).unlink()

    def _write_state(self) -> None:
        """Record what runs, so `sharewhy airflow stop` from another shell can stop it."""
        pids = {"stack": os.getpid(), **{s: p.pid for s, p in self.processes.items()}}
        created = {name: psutil.Process(pid).create_time() for name, pid in pids.items()}
        (self.home / STATE_FILE_NAME).write_text(json.dumps({"pids": pids, "created": created, "url": self.url}))

    def __enter__(self) -> AirflowStack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def running_owner(home: Path) -> int | None:
    """The pid of the `sharewhy airflow up` that runs the stack of `home`, if it is alive."""
    try:
        state = json.loads((home / STATE_FILE_NAME).read_text())
        owner = psutil.Process(state["pids"]["stack"])
        return owner.pid if abs(owner.create_time() - state["created"]["stack"]) < 1 else None
    except (FileNotFoundError, ValueError, KeyError, psutil.NoSuchProcess):
        return None


def stop_recorded(home: Path = settings.AIRFLOW_STACK_HOME) -> bool:
    """Stop a stack another process started (from its state file), the whole process trees at once; whether
    anything was running. A pid whose process was started at another time is someone else's: left alone."""
    state_file = home / STATE_FILE_NAME
    try:
        state = json.loads(state_file.read_text())
    except FileNotFoundError:
        return False
    alive = []
    for name, pid in state["pids"].items():
        with suppress(psutil.NoSuchProcess):
            if abs(psutil.Process(pid).create_time() - state["created"][name]) < 1:
                alive.append(pid)
    processes.kill_trees(alive, timeout=30)
    with suppress(FileNotFoundError):
        state_file.unlink()
    return bool(alive)


# ---- `sharewhy airflow up`: the whole local stack in the foreground ------------------------------------------------


def up(simulate: bool = True, webhooks: bool = True, executor: str = "local", workers: int = 2) -> int:
    """Run the local stack until Ctrl-C / SIGTERM / `sharewhy airflow stop`; with `executor="celery"`, `workers`
    Celery workers over the Redis broker of settings.CELERY_BROKER_URL (checked before anything starts)."""
    from sharewhy_dev import warehouse

    home = settings.AIRFLOW_STACK_HOME
    home.mkdir(parents=True, exist_ok=True)
    if running_owner(home) is not None:
        print(f"sharewhy airflow: already running (pid {running_owner(home)}); `make airflow-stop` stops it")
        return 1
    stop_recorded(home)  # leftovers of a stack that was killed without cleaning up
    ports.exit_if_taken(
        [(settings.AIRFLOW_API_PORT, "make airflow PORT={port}")]
        + ([(settings.WEBHOOK_PORT, "SHAREWHY_WEBHOOK_PORT={port} make airflow")] if webhooks else []),
        "sharewhy airflow",
    )
    if executor == "celery":
        problem = broker_problem(settings.CELERY_BROKER_URL)
        if problem:
            print(f"sharewhy airflow: {problem}", file=sys.stderr)
            return 1
    log_path = home / "stack.log"
    log = open(log_path, "a")  # noqa: SIM115
    print(f"sharewhy airflow — local stack on {HOST} (log: {log_path}, services: {home / 'services'})")

    warehouse_url = settings.external_warehouse_url() or warehouse.start()
    metadata_url = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") or sqlalchemy_url(
        ensure_database(warehouse_url, "airflow")
    )
    extra = {"SHAREWHY_WAREHOUSE_URL": warehouse_url}
    children: list[subprocess.Popen] = []
    stop_requested = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop_requested.set())

    services = SERVICES + (celery_workers(workers) if executor == "celery" else ())
    stack = AirflowStack(home, settings.AIRFLOW_API_PORT, {}, services=services)
    try:
        if simulate:
            token = secrets.token_urlsafe(24)
            today = datetime.now(UTC).date()
            process, ready = simulated_sources.start(today, token, log)
            children.append(process)
            extra.update(simulated_sources.connections_env(ready["connections"], token))
            extra[consent.KEYS_ENV], enrolled = simulated_sources.enrol_members(
                warehouse_url, ready["consent_export"], token
            )
            print(f"  consent      {enrolled['imported']} member tokens imported, encrypted")
            print(f"  simulator    {ready['base_url']} (as of {today}; connections {', '.join(ready['connections'])})")
        stack.env = airflow_env(home, settings.AIRFLOW_API_PORT, metadata_url, extra, executor)
        started = time.monotonic()
        stack.prepare(log)
        print(f"  metadata     {metadata_url.split('@')[-1]} (migrated)")
        stack.start()
        password = stack.password()
        print(
            f"  airflow      {stack.url}  user {ADMIN}  password {password}  ({time.monotonic() - started:.0f} s;"
            " pools of dags/pipeline/pools.json set)"
        )
        print(f"               (SimpleAuthManager keeps it in {home / 'simple_auth_manager_passwords.json.generated'})")
        if executor == "celery":
            print(
                f"  executor     CeleryExecutor: {workers} workers × {settings.CELERY_WORKER_CONCURRENCY} processes,"
                f" broker {redacted(settings.CELERY_BROKER_URL)}, queue {celery_queue(home)}"
            )
        if webhooks:
            secret = os.environ.get("SHAREWHY_TYPEFORM_WEBHOOK_SECRET") or secrets.token_urlsafe(24)
            env = {
                **stack.env,
                "SHAREWHY_TYPEFORM_WEBHOOK_SECRET": secret,
                "SHAREWHY_AIRFLOW_API_URL": stack.url,
                "SHAREWHY_AIRFLOW_USERNAME": ADMIN,
                "SHAREWHY_AIRFLOW_PASSWORD": password,
            }
            process, ready = processes.start_child(
                [sys.executable, "-m", "sharewhy.cli", "webhooks", "serve", "--port", str(settings.WEBHOOK_PORT)],
                env,
                log,
            )
            children.append(process)
            shown = (
                "from SHAREWHY_TYPEFORM_WEBHOOK_SECRET" if "SHAREWHY_TYPEFORM_WEBHOOK_SECRET" in os.environ else secret
            )
            print(f"  webhooks     {ready['url']}  (Typeform secret: {shown})")
        if stack.env.get("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "True").lower() != "false":
            print(
                "New DAGs start paused: unpause them in the UI (or set AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False)."
            )
        print("Ctrl-C or `make airflow-stop` stops everything.")
        while not stop_requested.wait(timeout=1.0):
            stack.check_alive()
            for child in children:
                if child.poll() is not None:
                    raise RuntimeError(f"a child process exited with {child.returncode}; see {log_path}")
        return 0
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as error:
        print(f"sharewhy airflow: {error}", file=sys.stderr)
        if isinstance(error, subprocess.CalledProcessError):
            print(error.stderr[-2000:], file=sys.stderr)
        return 1
    finally:
        print("stopping…", flush=True)
        processes.kill_trees([child.pid for child in children])
        stack.stop()
        log.close()
        print("stopped")


def stop() -> int:
    print("stopped" if stop_recorded() else "was not running")
    return 0


def redacted(url: str) -> str:
    """A broker URL without its password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def broker_problem(url: str) -> str | None:
    """Why the Celery broker at `url` cannot be used (None when it answers PING)."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        return (
            f"the Celery broker {redacted(url)} does not answer ({error}); start Redis there or point"
            " SHAREWHY_CELERY_BROKER_URL at one"
        )
    return None


# ---- operations on a running Airflow (this stack or docker-compose's), through the REST API ----------------------

TRANSFORM_DAG = "transform_audit_publish"


#: The ingestion DAG whose landing the API sources measure (their `wait_for_shares` sensors wait for it): started
#: first, so those sensors find the night's shares at their first look instead of waiting a poke interval.
SHARES_DAG = "ingest_advocacy"


def ingestion_dags(api: AirflowApi) -> list[str]:
    """Every DAG tagged `ingestion`, the shares first."""
    return sorted((d["dag_id"] for d in api.dags(tags=["ingestion"])), key=lambda d: (d != SHARES_DAG, d))


#: The tag of the alternative survey vendors' ingestion DAGs: the build waits for any one of them.
SURVEY_TAG = "survey"


def _stages(api: AirflowApi, dag_ids: list[str]) -> list[list[str]]:
    """The ingestion DAGs in the order a night runs them: the shares and the survey vendors, then the rest.

    The build's condition is met by any one survey vendor and every other source: with several vendors configured
    (the demo, the tests), the vendors land first, so the build the last other source triggers covers all of them.
    """
    survey_dags = {d["dag_id"] for d in api.dags(tags=[SURVEY_TAG])}
    first = [d for d in dag_ids if d == SHARES_DAG or d in survey_dags]
    return [stage for stage in (first, [d for d in dag_ids if d not in first]) if stage]


def run_night(api: AirflowApi, night: date, timeout: float = 1800) -> dict[str, Any]:
    """Run every ingestion DAG for `night` (in `_stages`; a night that ran already runs again) and wait for the
    `transform_audit_publish` run their raw Asset events create.
    {"ingestion": {(dag_id, run_id): state}, "transform": run}."""
    started = datetime.now(UTC)
    deadline = time.monotonic() + timeout
    dag_ids = ingestion_dags(api)
    paused = sorted(d["dag_id"] for d in api.dags() if d["is_paused"] and d["dag_id"] in {*dag_ids, TRANSFORM_DAG})
    if paused:
        raise RuntimeError(f"unpause these DAGs first (a paused DAG's runs never start): {', '.join(paused)}")
    runs: list[tuple[str, str]] = []
    states: dict = {}
    for stage in _stages(api, dag_ids):
        stage_runs = [(dag_id, _replay(api, dag_id, night)) for dag_id in stage]
        states.update(api.wait_for_runs(stage_runs, timeout=max(1.0, deadline - time.monotonic())))
        runs += stage_runs
    failed = sorted(f"{dag_id} {run_id}" for (dag_id, run_id), state in states.items() if state != "success")
    if failed:
        raise RuntimeError(f"night {night}: failed runs: {', '.join(failed)}")
    run = _build_after(api, started, set(runs), wait=max(1.0, min(60.0, deadline - time.monotonic())))
    if run is None:
        raise TimeoutError(f"no {TRANSFORM_DAG} run was triggered by the raw Asset events of {night}")
    api.wait_for_runs([(TRANSFORM_DAG, run["dag_run_id"])], timeout=max(1.0, deadline - time.monotonic()))
    return {"ingestion": states, "transform": api.run(TRANSFORM_DAG, run["dag_run_id"])}


def _replay(api: AirflowApi, dag_id: str, night: date) -> str:
    """Run `dag_id` for `night`: its run of that night again (cleared) if it has one, else a new manual run."""
    existing = api.runs_for_nights(dag_id, night, night).get(night)
    if existing is None:
        return api.trigger(dag_id, night)["dag_run_id"]
    api.clear_run(dag_id, existing["dag_run_id"])
    return existing["dag_run_id"]


def _finished_runs(api: AirflowApi, dag_ids: list[str], first: date, last: date, deadline: float) -> dict:
    """Wait until every night in [first, last] of every DAG has a finished run; {dag_id: {night: run}}."""
    expected = (last - first).days + 1
    while True:
        runs = {
            d: {n.isoformat(): r for n, r in sorted(by_night.items())}
            for d, by_night in api.runs_of_nights(dag_ids, first, last).items()
        }
        if all(len(r) == expected and all(x["state"] in FINISHED_STATES for x in r.values()) for r in runs.values()):
            return runs
        if time.monotonic() > deadline:
            pending = {d: [n for n, x in r.items() if x["state"] not in FINISHED_STATES] for d, r in runs.items()}
            raise TimeoutError(f"nights {first}..{last} not finished: {pending}")
        time.sleep(2.0)


def _require_nights(runs: dict, first: date, last: date) -> None:
    failed = {d: [n for n, run in r.items() if run["state"] != "success"] for d, r in runs.items()}
    failed = {d: n for d, n in failed.items() if n}
    if failed:
        raise RuntimeError(f"backfill {first}..{last} failed: {failed}")


def backfill(api: AirflowApi, first_night: date, last_night: date, timeout: float = 3600) -> dict[str, Any]:
    """Replay the nights [first_night, last_night] through Airflow, idempotently, and build once at the end.

    1. pause the transform, so the replayed nights do not each trigger a build;
    2. an Airflow backfill of every ingestion DAG over the nights before the last (`reprocess_behavior=completed`:
       nights that ran already are cleared and run again; one night at a time per DAG, in order): the shares
       and the survey vendors first, then the other sources (see `_stages`; the API sources also wait for their
       night's shares by themselves);
    3. clear the transform's stale queued events and unpause it;
    4. replay the last night like any night (its run is cleared and rerun, or triggered when it has none): each
       ingestion DAG emits its raw Asset event, and the last of them triggers one `transform_audit_publish` run over
       everything landed — the same asset chain as a normal night. If something else completed the chain early,
       the build is triggered explicitly after the last landing instead.
    Every load is idempotent, so a backfill run twice leaves what one run left.
    Returns {"ingestion": {dag_id: {night: state}}, "transform": run, "triggered_by": "assets" | "manual"}.
    """
    deadline = time.monotonic() + timeout
    dag_ids = ingestion_dags(api)
    dags = {d["dag_id"]: d for d in api.dags()}
    paused = sorted(d for d in dag_ids if dags[d]["is_paused"])
    if paused:
        raise RuntimeError(f"unpause these DAGs first (a paused DAG's runs never start): {', '.join(paused)}")
    transform_was_paused = dags[TRANSFORM_DAG]["is_paused"]
    nights: dict[str, dict[str, dict]] = {d: {} for d in dag_ids}
    try:
        api.set_paused(TRANSFORM_DAG, True)
        if last_night > first_night:
            before_last = last_night - timedelta(days=1)
            for stage in _stages(api, dag_ids):
                for dag_id in stage:
                    api.create_backfill(dag_id, first_night, before_last)
                runs = _finished_runs(api, stage, first_night, before_last, deadline)
                _require_nights(runs, first_night, before_last)
                for dag_id, by_night in runs.items():
                    nights[dag_id].update(by_night)
        api.clear_queued_events(TRANSFORM_DAG)  # a stale partial condition: the build covers what it announced
        api.set_paused(TRANSFORM_DAG, False)
        started = datetime.now(UTC)
        last: dict[str, dict[str, dict]] = {}
        for stage in _stages(api, dag_ids):
            for dag_id in stage:
                _replay(api, dag_id, last_night)
            last.update(_finished_runs(api, stage, last_night, last_night, deadline))
            _require_nights(last, last_night, last_night)
        for dag_id, by_night in last.items():
            nights[dag_id].update(by_night)
        last_runs = {(dag_id, runs[last_night.isoformat()]["dag_run_id"]) for dag_id, runs in last.items()}
        run, triggered_by = _build_after(api, started, last_runs), "assets"
        if run is None:
            run, triggered_by = api.trigger(TRANSFORM_DAG), "manual"
        api.wait_for_runs([(TRANSFORM_DAG, run["dag_run_id"])], timeout=max(1.0, deadline - time.monotonic()))
        run = api.run(TRANSFORM_DAG, run["dag_run_id"])
    finally:
        api.set_paused(TRANSFORM_DAG, transform_was_paused)
    if run["state"] != "success":
        raise RuntimeError(f"{TRANSFORM_DAG} {run['dag_run_id']} after the backfill: {run['state']}")
    states = {d: {n: r["state"] for n, r in runs.items()} for d, runs in nights.items()}
    return {"ingestion": states, "transform": run, "triggered_by": triggered_by}


def _build_after(api: AirflowApi, since: datetime, sources: set[tuple[str, str]], wait: float = 30.0) -> dict | None:
    """The asset-triggered transform run that consumed the Asset events of every run in `sources`, if the
    scheduler creates one within `wait` seconds."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        for run in api.runs(TRANSFORM_DAG, run_type="asset_triggered"):
            if datetime.fromisoformat(run["run_after"]) < since:
                continue
            events = api.request("GET", f"/dags/{TRANSFORM_DAG}/dagRuns/{run['dag_run_id']}/upstreamAssetEvents")
            if sources <= {(e["source_dag_id"], e["source_run_id"]) for e in events["asset_events"]}:
                return run
        time.sleep(1.0)
    return None


def local_api() -> AirflowApi:
    """The REST API of the running local stack, or of the Airflow SHAREWHY_AIRFLOW_API_URL names (docker-compose),
    as SHAREWHY_AIRFLOW_USERNAME with SHAREWHY_AIRFLOW_PASSWORD."""
    url = os.environ.get("SHAREWHY_AIRFLOW_API_URL")
    if url:
        return AirflowApi(
            url, os.environ.get("SHAREWHY_AIRFLOW_USERNAME", ADMIN), os.environ.get("SHAREWHY_AIRFLOW_PASSWORD", "")
        )
    if running_owner(settings.AIRFLOW_STACK_HOME) is None:
        raise RuntimeError("no local Airflow runs: start it with `make airflow` (or set SHAREWHY_AIRFLOW_API_URL)")
    stack = AirflowStack(settings.AIRFLOW_STACK_HOME, settings.AIRFLOW_API_PORT, {})
    return stack.api()
