"""DAG integrity: every file in dags/ imports cleanly and follows the project's scheduling policy.

Two views of the DAG folder:
- `dagbag`: an in-process DagBag (the tests' environment);
- `parsed`: this file run as a script (see `probe` below) in the production environment — no test overrides —
  parsing each DAG file the way the dag-processor does (a fresh fork per file), with every network and database
  call refused and recorded; it reports each file's parse time, which is printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from sharewhy import settings

DAG_FILES = sorted(p for p in settings.DAGS_DIR.glob("*.py"))
#: A DAG file must parse well inside Airflow's dagbag_import_timeout (30 s); ours take well under a second.
MAX_PARSE_SECONDS = 5.0
#: Tasks that must never retry, and why.
NO_RETRY_TASKS = {("transform_audit_publish", "audit"): "a failed audit must not be retried into a pass"}
TRANSFORM_DAG = "transform_audit_publish"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(settings.DAGS_DIR))


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> dict:
    """The probe's report: {"airflow_import_s", "files": {name: {seconds, dags, import_errors, refused}}}."""
    home = tmp_path_factory.mktemp("airflow-parse-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHAREWHY_", "AIRFLOW"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(settings.DAGS_DIR),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        PYTHONPATH=os.pathsep.join([str(settings.DAGS_DIR), str(settings.REPO_ROOT)]),
    )
    result = subprocess.run(
        [sys.executable, __file__, str(settings.DAGS_DIR)], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def production_dags(parsed) -> dict[str, dict]:
    return {dag_id: dag for report in parsed["files"].values() for dag_id, dag in report["dags"].items()}


# ---- imports -----------------------------------------------------------------------------------------------------


def test_every_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_each_file_defines_exactly_the_dag_it_is_named_after(dagbag, path):
    dag_ids = [dag_id for dag_id, dag in dagbag.dags.items() if dag.fileloc == str(path)]
    assert dag_ids == [path.stem]


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_parsing_makes_no_network_or_database_call(parsed, path):
    report = parsed["files"][path.name]
    assert report["import_errors"] == {}
    assert report["refused"] == [], f"{path.name} reached out at parse time: {report['refused']}"
    assert list(report["dags"]) == [path.stem]


def test_the_probe_catches_a_dag_file_that_reaches_out_at_parse_time(tmp_path):
    (tmp_path / "leaky.py").write_text(
        "# an airflow dag file (DagBag's safe mode skips files that do not say so)\nimport psycopg, socket\n"
        "for attempt in (lambda: socket.create_connection(('127.0.0.1', 9)), lambda: psycopg.connect('dbname=x')):\n"
        "    try:\n        attempt()\n    except OSError:\n        pass\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    result = subprocess.run(
        [sys.executable, __file__, str(tmp_path)], env=env, capture_output=True, text=True, timeout=300
    )
    refused = json.loads(result.stdout.strip().splitlines()[-1])["files"]["leaky.py"]["refused"]
    assert [r.split("(")[0] for r in refused] == ["socket.create_connection", "psycopg.connect"]


def test_parse_time_per_file_is_measured_and_small(parsed, capsys):
    lines = [
        f"DAG parse time per file (fresh fork with Airflow imported, {parsed['airflow_import_s']:.1f} s "
        "for that import itself):"
    ]
    for name, report in sorted(parsed["files"].items()):
        lines.append(
            f"  {name:<34} {report['seconds'] * 1000:7.0f} ms  "
            f"{sum(len(d['tasks']) for d in report['dags'].values())} task(s)"
        )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    slow = {name: r["seconds"] for name, r in parsed["files"].items() if r["seconds"] > MAX_PARSE_SECONDS}
    assert not slow, slow


# ---- policy ------------------------------------------------------------------------------------------------------


def test_policy_tags_owner_no_catchup_one_run_at_a_time(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert not dag.catchup, dag_id
        assert dag.max_active_runs == 1, dag_id
        assert dag.default_args["owner"] == "data-engineering", dag_id


def test_every_task_retries_with_exponential_backoff_unless_it_must_not(production_dags):
    for dag_id, dag in production_dags.items():
        for task_id, task in dag["tasks"].items():
            if (dag_id, task_id) in NO_RETRY_TASKS:
                assert task["retries"] == 0, (dag_id, task_id, NO_RETRY_TASKS[(dag_id, task_id)])
                continue
            assert task["retries"] >= 2, (dag_id, task_id)
            assert task["exponential_backoff"], (dag_id, task_id)
            assert 30 <= task["retry_delay_s"] <= 1800, (dag_id, task_id)
            assert task["max_retry_delay_s"] and task["max_retry_delay_s"] <= 3600, (dag_id, task_id)


def test_sensors_reschedule_instead_of_holding_a_worker_slot(production_dags):
    sensors = [(d, t, task) for d, dag in production_dags.items() for t, task in dag["tasks"].items() if task["sensor"]]
    assert sensors, "the API sources wait for their night's shares with a sensor"
    for dag_id, task_id, task in sensors:
        assert task["mode"] == "reschedule", (dag_id, task_id)
        assert task["timeout_s"] and task["timeout_s"] <= 12 * 3600, (dag_id, task_id)


def _cron_fires_daily_at(cron: str) -> tuple[int, int]:
    """(hour, minute) of a cron that fires once a day, every day; AssertionError otherwise."""
    from croniter import croniter

    start = datetime(2026, 3, 1, tzinfo=UTC)  # a month with no DST change in UTC anyway
    fires = croniter(cron, start)
    times = [fires.get_next(datetime) for _ in range(40)]
    gaps = {b - a for a, b in pairwise(times)}
    assert gaps == {timedelta(days=1)}, f"{cron!r} does not fire exactly once a day"
    return times[0].hour, times[0].minute


def test_every_task_and_every_run_has_a_time_limit_and_a_failed_run_alerts(production_dags):
    for dag_id, dag in production_dags.items():
        # a run may wait out its landing sensors (6 h) but never into the next night
        assert 6 * 3600 < dag["dagrun_timeout_s"] < 24 * 3600, dag_id
        assert dag["failure_callbacks"] == ["NightFailedNotifier"], dag_id
        for task_id, task in dag["tasks"].items():
            assert task["execution_timeout_s"] and task["execution_timeout_s"] <= dag["dagrun_timeout_s"], (
                dag_id,
                task_id,
            )


def test_ingestion_dags_run_nightly_in_utc_before_the_transform_fallback(production_dags):
    ingestion = {d: dag for d, dag in production_dags.items() if "ingestion" in dag["tags"]}
    assert ingestion
    transform = production_dags[TRANSFORM_DAG]
    assert transform["timetable"] == "AssetOrTimeSchedule"
    assert transform["inner_timetable"] == "CronTriggerTimetable"
    assert transform["timezone"] == "UTC"
    fallback = _cron_fires_daily_at(transform["cron"])
    for dag_id, dag in ingestion.items():
        nightly = dag["inner_timetable"] or dag["timetable"]
        assert nightly == "CronDataIntervalTimetable", (dag_id, nightly)  # data interval = the night
        assert dag["timezone"] == "UTC", dag_id
        at = _cron_fires_daily_at(dag["cron"])
        assert at < (3, 0), (dag_id, "a nightly load starts after midnight, hours before the 04:00 fallback")
        assert at < fallback, dag_id
        assert dag["start_date"] and datetime.fromisoformat(dag["start_date"]) < datetime.now(UTC), dag_id
    # a night's data interval is exactly that day: what the loads window on
    from airflow.timetables.interval import CronDataIntervalTimetable

    interval = CronDataIntervalTimetable("0 0 * * *", timezone="UTC").infer_manual_data_interval(
        run_after=datetime(2026, 11, 26, 1, tzinfo=UTC)
    )
    assert (interval.start, interval.end) == (datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC))


def test_every_pool_a_task_names_is_declared(production_dags):
    from pipeline.pools import POOLS

    for dag_id, dag in production_dags.items():
        for task_id, task in dag["tasks"].items():
            assert task["pool"] == "default_pool" or task["pool"] in POOLS, (dag_id, task_id, task["pool"])


def test_each_api_source_lands_through_its_api_pool(production_dags):
    """A DAG tagged with an API that has a pool (pools.json: `<api>_api`) lands through that pool."""
    from pipeline.pools import POOLS

    checked = 0
    for dag_id, dag in production_dags.items():
        apis = [f"{tag}_api" for tag in dag["tags"] if f"{tag}_api" in POOLS]
        for task_id, task in dag["tasks"].items():
            if apis and task["outlets"]:
                assert task["pool"] in apis, (dag_id, task_id, task["pool"], apis)
                checked += 1
    assert checked >= 2  # LinkedIn and Typeform at least


@pytest.mark.parametrize(
    "dag_id, landing, status",
    [
        ("ingest_linkedin", "land_member_post_analytics", "land_linkedin_token_status"),
        ("ingest_x", "land_tweet_metrics", "land_x_token_status"),
    ],
)
def test_member_scoped_loads_run_as_shards_and_announce_the_night_after_every_shard(dagbag, dag_id, landing, status):
    """Each shard of the members is a mapped task instance (its own load, retried alone); the raw Asset event
    comes from the task after all of them, so the build never starts on part of the night."""
    from pipeline.pools import POOLS
    from sharewhy import settings

    dag = dagbag.dags[dag_id]
    shards, announce = dag.get_task(landing), dag.get_task(status)
    assert type(shards).__name__.endswith("MappedOperator")
    assert shards.op_kwargs_expand_input.value == {"shard": list(range(settings.INGESTION_SHARDS))}
    assert not shards.outlets and announce.outlets
    assert announce.upstream_task_ids == {landing}
    # no more tasks spend the app's quota at once than there are shards, each taking its part (Shard.share_of)
    assert shards.pool == announce.pool and POOLS[shards.pool]["slots"] <= settings.INGESTION_SHARDS


def test_pools_file_is_what_airflow_pools_import_reads():
    from pipeline.pools import POOLS

    assert POOLS
    for name, pool in POOLS.items():
        assert name.endswith("_api")
        assert set(pool) == {"slots", "description", "include_deferred"}, name
        assert isinstance(pool["slots"], int) and pool["slots"] >= 1, name


# ---- assets ------------------------------------------------------------------------------------------------------


def test_ingestion_dags_declare_the_raw_assets_they_land(dagbag):
    from pipeline.assets import RAW_TABLES

    landed = {
        outlet.name
        for dag_id, dag in dagbag.dags.items()
        if dag_id.startswith("ingest_")
        for task in dag.tasks
        for outlet in task.outlets
    }
    assert landed == {asset.name for asset in RAW_TABLES}


def test_transform_waits_for_every_raw_asset_but_any_one_survey_vendor_and_publishes_bi(dagbag):
    from airflow.sdk import Asset, AssetAll, AssetAny

    from pipeline.assets import BI, RAW_SURVEY_CATALOGUES, RAW_SURVEY_RESPONSES, RAW_TABLES

    dag = dagbag.dags[TRANSFORM_DAG]
    condition = dag.timetable.asset_condition
    assert type(condition) is AssetAll
    alternatives = [item for item in condition.objects if type(item) is AssetAny]
    required = [item for item in condition.objects if type(item) is Asset]
    assert len(alternatives) == 1 and len(alternatives) + len(required) == len(condition.objects)
    assert all(type(vendor) is Asset for vendor in alternatives[0].objects)
    assert (
        {vendor.name for vendor in alternatives[0].objects}
        == {"raw.typeform__responses", "raw.surveymonkey__responses", "raw.qualtrics__responses"}
        == {asset.name for asset in RAW_SURVEY_RESPONSES}
    )
    assert {asset.name for asset in required} == {asset.name for asset in RAW_TABLES} - {
        asset.name for asset in RAW_SURVEY_RESPONSES + RAW_SURVEY_CATALOGUES
    }
    assert [o.name for o in dag.get_task("publish").outlets] == [BI.name]


def test_the_transform_holds_its_lease_from_dbt_build_to_publish_and_always_gives_it_back(dagbag):
    """A setup task takes the transform lease before dbt build; a teardown gives it back after publish, and runs
    even when a step failed (Airflow's teardown trigger rule); the DAG's own runs never overlap."""
    from airflow.task.trigger_rule import TriggerRule

    dag = dagbag.dags[TRANSFORM_DAG]
    take, give_back = dag.get_task("take_transform_lease"), dag.get_task("release_transform_lease")

    assert take.is_setup and give_back.is_teardown and take.task_id in give_back.upstream_task_ids
    assert give_back.trigger_rule == TriggerRule.ALL_DONE_SETUP_SUCCESS
    assert dag.get_task("dbt_build").upstream_task_ids == {take.task_id}
    assert {"publish", take.task_id} <= give_back.upstream_task_ids
    assert dag.max_active_runs == 1


def test_the_scheduler_triggers_the_transform_on_one_survey_vendor_and_every_other_raw_asset(dagbag):
    """The condition as the scheduler sees it: the DAG serialized (as the dag-processor stores it), deserialized, and
    evaluated by the scheduler's AssetEvaluator against which Assets have queued events."""
    from airflow.assets.evaluation import AssetEvaluator
    from airflow.serialization.definitions.assets import SerializedAssetUniqueKey
    from airflow.serialization.serialized_objects import DagSerialization

    from pipeline.assets import RAW_SURVEY_CATALOGUES, RAW_SURVEY_RESPONSES, RAW_TABLES

    stored = DagSerialization.from_dict(DagSerialization.to_dict(dagbag.dags[TRANSFORM_DAG]))
    condition = stored.timetable.asset_condition

    def triggers(updated) -> bool:
        statuses = {SerializedAssetUniqueKey(name=a.name, uri=a.uri): True for a in updated}
        return AssetEvaluator(session=None).run(condition, statuses)

    others = [table for table in RAW_TABLES if table not in RAW_SURVEY_RESPONSES + RAW_SURVEY_CATALOGUES]
    assert len(others) == len(RAW_TABLES) - 3 - len(RAW_SURVEY_CATALOGUES)
    for vendor in RAW_SURVEY_RESPONSES:
        assert triggers([*others, vendor]), vendor.name  # one vendor's responses and everything else
    assert triggers(RAW_TABLES)
    assert not triggers(others)  # no survey responses yet: wait (or the 04:00 fallback)
    for missing in others:
        assert not triggers([t for t in RAW_TABLES if t != missing]), missing.name


def test_survey_ingestion_runs_nightly_and_on_every_submission_event(production_dags):
    from pipeline.assets import TYPEFORM_SUBMISSIONS

    dag = production_dags["ingest_typeform"]
    assert dag["timetable"] == "AssetOrTimeSchedule"
    assert dag["inner_timetable"] == "CronDataIntervalTimetable"
    assert dag["schedule_assets"] == [TYPEFORM_SUBMISSIONS.name]
    assert "event-driven" in dag["tags"]


# ---- the probe (this file run as a script) -----------------------------------------------------------------------


def _refuse_network_and_databases(refused: list[str]) -> None:
    import socket
    import sqlite3

    import psycopg
    import psycopg2
    import requests

    def refuse(what):
        def guard(*args, **kwargs):
            refused.append(f"{what}{args[1:2] if what.startswith('socket') else ''}")
            raise OSError(f"{what} at DAG parse time")

        return guard

    socket.socket.connect = refuse("socket.connect")
    socket.socket.connect_ex = refuse("socket.connect_ex")
    socket.create_connection = refuse("socket.create_connection")
    socket.getaddrinfo = refuse("socket.getaddrinfo")
    sqlite3.connect = refuse("sqlite3.connect")
    psycopg.connect = refuse("psycopg.connect")
    psycopg.Connection.connect = classmethod(refuse("psycopg.Connection.connect"))
    psycopg2.connect = refuse("psycopg2.connect")
    requests.Session.request = refuse("requests")


def _asset_names(condition) -> list[str]:
    if condition is None:
        return []
    if hasattr(condition, "objects"):
        return sorted(name for item in condition.objects for name in _asset_names(item))
    return [condition.name]


def _as_list(callbacks) -> list:
    return [] if callbacks is None else callbacks if isinstance(callbacks, list) else [callbacks]


def _describe(dag) -> dict:
    timetable = dag.timetable
    inner = getattr(timetable, "timetable", None)
    nightly = inner or timetable
    return {
        "timetable": type(timetable).__name__,
        "inner_timetable": type(inner).__name__ if inner is not None else None,
        "cron": getattr(nightly, "expression", None),
        "timezone": str(getattr(nightly, "timezone", "")),
        "schedule_assets": _asset_names(getattr(timetable, "asset_condition", None)),
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "dagrun_timeout_s": dag.dagrun_timeout.total_seconds() if dag.dagrun_timeout else None,
        "failure_callbacks": [type(c).__name__ for c in _as_list(dag.on_failure_callback)],
        "tags": sorted(dag.tags),
        "tasks": {
            task.task_id: {
                "retries": task.retries,
                "exponential_backoff": bool(task.retry_exponential_backoff),
                "retry_delay_s": task.retry_delay.total_seconds(),
                "max_retry_delay_s": task.max_retry_delay.total_seconds() if task.max_retry_delay else None,
                "pool": task.pool,
                "outlets": sorted(o.name for o in task.outlets),
                "sensor": "Sensor" in type(task).__name__,
                "mode": getattr(task, "mode", None),
                "timeout_s": float(task.timeout) if getattr(task, "timeout", None) is not None else None,
                "execution_timeout_s": task.execution_timeout.total_seconds() if task.execution_timeout else None,
            }
            for task in dag.tasks
        },
    }


def _parse_in_a_fresh_fork(path: Path) -> dict:
    """What the dag-processor does for one file: fork, parse, report."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        refused: list[str] = []
        try:
            _refuse_network_and_databases(refused)
            from airflow.dag_processing.dagbag import DagBag

            started = time.perf_counter()
            bag = DagBag(dag_folder=str(path))
            seconds = time.perf_counter() - started
            report = {
                "seconds": seconds,
                "dags": {d: _describe(dag) for d, dag in bag.dags.items()},
                "import_errors": {str(k): str(v)[-2000:] for k, v in bag.import_errors.items()},
                "refused": refused,
            }
        except BaseException as error:  # noqa: BLE001 - the parent reports it
            report = {"seconds": 0.0, "dags": {}, "import_errors": {str(path): repr(error)}, "refused": refused}
        with os.fdopen(write, "w") as out:
            json.dump(report, out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as incoming:
        data = incoming.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def probe(dags_dir: str) -> dict:
    started = time.perf_counter()
    import airflow.sdk  # noqa: F401 - the dag-processor has Airflow imported before it forks
    import psycopg  # noqa: F401 - imported before the guards replace their connect functions
    import psycopg2  # noqa: F401
    import requests  # noqa: F401
    from airflow.dag_processing.dagbag import DagBag  # noqa: F401

    airflow_import = time.perf_counter() - started
    files = sorted(Path(dags_dir).glob("*.py"))
    return {"airflow_import_s": airflow_import, "files": {p.name: _parse_in_a_fresh_fork(p) for p in files}}


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1])))


@pytest.mark.parametrize(
    ("run_type", "logical_date", "night"),
    [
        ("manual", datetime(2026, 11, 25, tzinfo=UTC), date(2026, 11, 25)),  # dags test / the night runner
        ("scheduled", datetime(2026, 11, 26, 4, tzinfo=UTC), None),  # fires after the night it builds
        ("asset_triggered", None, None),
    ],
)
def test_the_transform_names_the_night_only_when_its_run_does(run_type, logical_date, night):
    from types import SimpleNamespace

    from pipeline.runs import named_night

    context = {"dag_run": SimpleNamespace(run_type=run_type), "logical_date": logical_date}
    assert named_night(context) == night
