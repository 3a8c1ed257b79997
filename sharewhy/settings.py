"""Configuration in one place: every path and environment variable sharewhy reads.

Credentials are never read here: API tokens come from Airflow connections (`AIRFLOW_CONN_<NAME>`),
the warehouse password (if any) from `SHAREWHY_WAREHOUSE_URL`.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg.conninfo
import yaml


class SettingsError(ValueError):
    """An environment variable holds a value sharewhy cannot use; the message names the variable."""


def _env_number(name: str, default: float, kind: type, *, minimum: float):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name}={raw!r} is not {what} (default {default})") from None
    if value < minimum:
        raise SettingsError(f"{name}={value} is below its minimum {minimum}")
    return value


def _env_int(name: str, default: int, *, minimum: int = 0) -> int:
    return _env_number(name, default, int, minimum=minimum)


def _env_float(name: str, default: float, *, minimum: float = 0) -> float:
    return _env_number(name, default, float, minimum=minimum)


REPO_ROOT = Path(__file__).resolve().parents[1]

#: Project-local state (embedded warehouse data, Airflow home, file drops, logs, data docs). Git ignores it.
STATE_DIR = Path(os.environ.get("SHAREWHY_HOME", REPO_ROOT / ".sharewhy")).resolve()
WAREHOUSE_DIR = STATE_DIR / "warehouse"
AIRFLOW_HOME = STATE_DIR / "airflow"
LOG_DIR = STATE_DIR / "logs"
DATA_DOCS_DIR = STATE_DIR / "data_docs"

DAGS_DIR = REPO_ROOT / "dags"
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

#: Airflow connection ids of the external systems.
LINKEDIN_CONN_ID = "linkedin_api"
TYPEFORM_CONN_ID = "typeform_api"
X_CONN_ID = "x_api"
BITLY_CONN_ID = "bitly_api"
SURVEYMONKEY_CONN_ID = "surveymonkey_api"
QUALTRICS_CONN_ID = "qualtrics_api"

#: When a post's metrics are fetched again (ingestion.refresh): "<up to N days old>:<every M days>" steps; by
#: default every night for the first 7 days, then weekly up to 90 days.
REFRESH_SCHEDULE = os.environ.get("SHAREWHY_REFRESH_SCHEDULE", "7:1,90:7")
#: The member-scoped loads (LinkedIn member analytics, X metrics) run as this many shards of the members, each its own
#: task and load (ingestion/shards.py). The API pools' slots (dags/pipeline/pools.json) must not exceed it: shards
#: split the app's daily quota between them, so no more than this many may spend it at once.
INGESTION_SHARDS = _env_int("SHAREWHY_INGESTION_SHARDS", 2, minimum=1)

#: Retries of a failed Airflow task (exponential backoff). The demo and the tests set 0 to fail fast.
TASK_RETRIES = _env_int("SHAREWHY_TASK_RETRIES", 2)

#: The longest one task attempt may run (minutes) before Airflow fails it (`execution_timeout`): a hung API call or
#: lock wait becomes a failed, retried task instead of a night that never ends.
TASK_TIMEOUT_MINUTES = _env_int("SHAREWHY_TASK_TIMEOUT_MINUTES", 120, minimum=1)
#: The longest one DAG run may take (hours, `dagrun_timeout`), waits for other sources' landings included; it must
#: exceed the landing sensors' 6-hour wait, and stays under a day so a stuck night never blocks the next one.
DAGRUN_TIMEOUT_HOURS = _env_int("SHAREWHY_DAGRUN_TIMEOUT_HOURS", 20, minimum=7)
#: Airflow connection that hears about a failed night (`dags/pipeline/alerts.py`): an http(s) webhook or an smtp
#: server. Alerts are off while the connection does not exist.
ALERT_CONN_ID = os.environ.get("SHAREWHY_ALERT_CONN_ID", "sharewhy_alerts")

#: How often (seconds) a DAG waiting for another source's landing of the night looks again (a rescheduling sensor).
WAIT_POKE_SECONDS = _env_int("SHAREWHY_WAIT_POKE_SECONDS", 300, minimum=1)

#: The longest physical line (bytes) a file-drop export may have: a longer one is quarantined with its file and
#: line, never read whole into memory (ingestion/sources/csv_export.py).
FILE_LINE_LIMIT_BYTES = _env_int("SHAREWHY_FILE_LINE_LIMIT_BYTES", 1 << 20, minimum=1)

#: Local Airflow (`make airflow`, `sharewhy airflow up`): the api-server's port on 127.0.0.1 and its own home.
AIRFLOW_API_PORT = _env_int("SHAREWHY_AIRFLOW_PORT", 8080, minimum=1)
AIRFLOW_STACK_HOME = STATE_DIR / "airflow-stack"
#: `sharewhy airflow up --executor celery`: the Redis broker the Celery workers take tasks from (one already
#: running; the local stack does not start Redis) and how many task processes each worker runs.
CELERY_BROKER_URL = os.environ.get("SHAREWHY_CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_WORKER_CONCURRENCY = _env_int("SHAREWHY_CELERY_WORKER_CONCURRENCY", 2, minimum=1)
#: Webhook receiver (`sharewhy webhooks serve`): its port on 127.0.0.1 and its record of deliveries seen.
WEBHOOK_PORT = _env_int("SHAREWHY_WEBHOOK_PORT", 8090, minimum=1)
WEBHOOK_STATE_DIR = Path(os.environ.get("SHAREWHY_WEBHOOK_STATE_DIR", STATE_DIR / "webhooks")).resolve()
#: What the receiver lets one client take: the largest body it reads (Typeform's deliveries are a few KiB), the time a
#: whole request may take to arrive (a connection idle or trickling past it is cut), and the connections it serves at
#: once (one thread each; more are answered 503 with Retry-After, which Typeform retries).
WEBHOOK_MAX_BODY_BYTES = _env_int("SHAREWHY_WEBHOOK_MAX_BODY_BYTES", 1 << 20, minimum=1)
WEBHOOK_REQUEST_TIMEOUT_SECONDS = _env_float("SHAREWHY_WEBHOOK_REQUEST_TIMEOUT_SECONDS", 10)
WEBHOOK_MAX_CONNECTIONS = _env_int("SHAREWHY_WEBHOOK_MAX_CONNECTIONS", 16, minimum=1)

#: dbt's own project file, whose `vars` hold the defaults of the rules both the dbt models and Python apply.
DBT_PROJECT_FILE = DBT_PROJECT_DIR / "dbt_project.yml"
DBT_VARS: dict = yaml.safe_load(DBT_PROJECT_FILE.read_text())["vars"]
#: The four motivation constructs of the survey, in display order (dbt var `motivation_constructs`, which the models
#: read too): the one list the gate, the simulator and the dashboards use.
MOTIVATION_CONSTRUCTS: tuple[str, ...] = tuple(DBT_VARS["motivation_constructs"])
#: The dbt var holding the survey confidentiality threshold (DESIGN §4).
DBT_K_ANONYMITY_VAR = "k_anonymity"
#: Minimum respondents behind any group that shows survey-derived values: dbt var `k_anonymity` unless
#: `SHAREWHY_THRESHOLD_K_ANONYMITY` overrides it. The one value in force: a transform run passes it to dbt
#: (`sharewhy.transform.release_vars`), the gate's `Thresholds` default to it, the dashboards' texts state it.
K_ANONYMITY = _env_int("SHAREWHY_THRESHOLD_K_ANONYMITY", int(DBT_VARS[DBT_K_ANONYMITY_VAR]), minimum=1)

#: Database schema names, sources → raw → staging → marts → audit → bi.
RAW_SCHEMA = "raw"
#: Where dbt puts the `bi` candidates when no release is named (a `dbt build` run by hand); a transform run builds
#: them into its own release schema instead (`expectations.naming.release_schema`, dbt var `DBT_RELEASE_VAR`). The
#: audit's suites name the candidates `bi_build.<table>` whichever schema holds them.
BI_BUILD_SCHEMA = "bi_build"
BI_SCHEMA = "bi"
AUDIT_SCHEMA = "audit"
#: The dbt var naming the schema the `bi` models are built into (dbt_project/dbt_project.yml).
DBT_RELEASE_VAR = "bi_release_schema"
#: The dbt var naming the last night (UTC date) the build covers: `marts.dim_month` counts a month's days covered
#: up to it (`is_complete`). A transform run that names its night passes it; without it, the latest share date.
DBT_DATA_THROUGH_VAR = "data_through"

#: The transform lease (sharewhy.transform_lease), one holder from dbt build to publish: how long a run waits for a
#: lease held by another before it is refused, and after how long a lease whose holder never released it (a killed
#: worker) may be taken over.
TRANSFORM_LEASE_WAIT_SECONDS = _env_float("SHAREWHY_TRANSFORM_LEASE_WAIT_SECONDS", 900)
TRANSFORM_LEASE_STALE_HOURS = _env_float("SHAREWHY_TRANSFORM_LEASE_STALE_HOURS", 12)

#: Publish (expectations.publish): how long one attempt waits for a lock on a `bi` view (readers queued behind the
#: switch wait at most this long), and how long publish keeps retrying (with backoff) before it gives up.
PUBLISH_LOCK_TIMEOUT_MS = _env_int("SHAREWHY_PUBLISH_LOCK_TIMEOUT_MS", 200, minimum=1)
PUBLISH_RETRY_SECONDS = _env_float("SHAREWHY_PUBLISH_RETRY_SECONDS", 600)


def drop_dir() -> Path:
    """Folder where file-drop sources (the advocacy platform's shares export) arrive."""
    return Path(os.environ.get("SHAREWHY_DROP_DIR", STATE_DIR / "drops")).resolve()


def external_warehouse_url() -> str | None:
    """The warehouse the user pointed us at, or None to use the embedded one."""
    return os.environ.get("SHAREWHY_WAREHOUSE_URL") or None


def warehouse_url() -> str:
    """libpq URL of the warehouse every component uses.

    `SHAREWHY_WAREHOUSE_URL` wins; otherwise the embedded warehouse, which must be running
    (`sharewhy warehouse start`; `make demo` starts it). The embedded warehouse is a development tool
    (`sharewhy_dev`, not installed in production), hence the lazy import.
    """
    url = external_warehouse_url()
    if url:
        return url
    try:
        from sharewhy_dev import warehouse
    except ModuleNotFoundError as missing:
        if missing.name != "sharewhy_dev":
            raise
        raise SettingsError(
            "SHAREWHY_WAREHOUSE_URL is not set (the embedded warehouse is a development tool, not installed here)"
        ) from None

    return warehouse.running_url()


def libpq_env(url: str) -> dict[str, str]:
    """The standard PG* variables for a libpq URL; dbt's profiles.yml reads these."""
    params = psycopg.conninfo.conninfo_to_dict(url)
    names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD", "dbname": "PGDATABASE"}
    env = {var: str(params[key]) for key, var in names.items() if params.get(key) not in (None, "")}
    env.setdefault("PGPORT", "5432")
    return env


def with_database(url: str, dbname: str) -> str:
    """The same server, another database (key=value conninfo, which psycopg and psql accept)."""
    return psycopg.conninfo.make_conninfo(url, dbname=dbname)
