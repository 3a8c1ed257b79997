"""End to end through a running Airflow: api-server, scheduler and dag-processor (`sharewhy_dev.airflow_stack`, the code
behind `make airflow`) on 127.0.0.1, over the project's DAGs, a throwaway metadata database and warehouse, and the
source simulator. Nothing here calls a task function directly: every load is a DAG run the scheduler ran.

1. a survey webhook: wrongly signed → refused, nothing queued, nothing landed; correctly signed → an asset event,
   an asset-triggered `ingest_typeform` run that lands the response; redelivered → nothing triggered or landed twice;
2. the asset chain: every ingestion DAG's run for a night emits its raw Asset, and those events create a
   `transform_audit_publish` run (dbt build → GX audit → publish) that succeeds and publishes `bi`;
3. a backfill of three consecutive nights, run twice, leaves the same raw and `bi` contents as running it once.

The nights are the first three of the simulator's share window (small, so fast). A cluster policy in the test's
Airflow home ends every DAG's schedule after them, so unpaused DAGs create no scheduled run of their own: every run
here is one the test asked for (manual, backfill, or asset-triggered).
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import date, timedelta

import psycopg
import pytest
import requests

from sharewhy import webhooks
from sharewhy_dev import airflow_stack
from sharewhy_dev.processes import wait_until
from sharewhy_dev.scratch_stack import running_stack

pytestmark = pytest.mark.e2e

AS_OF = date(2026, 11, 13)  # the simulator's "now": its share window is the 28 days before
NIGHTS = [AS_OF - timedelta(days=28 - n) for n in range(3)]
SCHEDULE_END = NIGHTS[-1] + timedelta(days=1)
RAW_DATA_TABLES_QUERY = (
    "select table_name from information_schema.tables where table_schema = 'raw'"
    " and table_type = 'BASE TABLE' and table_name not like '\\_%' order by 1"
)


@pytest.fixture(scope="module")
def stack(server_url, module_db, tmp_path_factory):
    # the backfill's build covers three nights where the previous one covered one: not an anomaly here
    with running_stack(
        server_url,
        module_db,
        tmp_path_factory.mktemp("airflow-home"),
        AS_OF,
        SCHEDULE_END,
        extra_env={"SHAREWHY_THRESHOLD_VOLUME_MAX_RATIO": "10"},
    ) as running:
        yield running


def _query(url: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def test_the_stack_listens_on_127_0_0_1_only_and_has_a_pool_per_api(stack):
    import psutil

    from pipeline.pools import POOLS

    pids = set()
    for process in stack["stack"].processes.values():
        root = psutil.Process(process.pid)
        pids |= {root.pid, *(child.pid for child in root.children(recursive=True))}
    listening = [c for c in psutil.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN and c.pid in pids]
    assert listening, "the api-server listens"
    assert {c.laddr.ip for c in listening} == {"127.0.0.1"}, listening
    pools = {p["name"]: p["slots"] for p in stack["api"].request("GET", "/pools")["pools"]}
    assert {name: pools.get(name) for name in POOLS} == {name: pool["slots"] for name, pool in POOLS.items()}


# ---- 1. survey webhooks ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def receiver(stack, tmp_path_factory):
    secret = "whsec-" + hashlib.sha256(b"sharewhy-test").hexdigest()[:24]
    env = {
        webhooks.SECRET_ENV: secret,
        "SHAREWHY_AIRFLOW_API_URL": stack["stack"].url,
        "SHAREWHY_AIRFLOW_USERNAME": airflow_stack.ADMIN,
        "SHAREWHY_AIRFLOW_PASSWORD": stack["stack"].password(),
        "SHAREWHY_WEBHOOK_STATE_DIR": str(tmp_path_factory.mktemp("webhooks")),
    }
    with webhooks.RunningReceiver(webhooks.receiver_from_environment(env)) as running:
        yield {"url": running.typeform_url, "secret": secret}


def _delivery(event_id: str, response) -> bytes:
    return json.dumps(
        {
            "event_id": event_id,
            "event_type": "form_response",
            "form_response": {
                "form_id": response.form_id,
                "token": response.token,
                "landed_at": response.landed_at.isoformat(),
                "submitted_at": response.submitted_at.isoformat().replace("+00:00", "Z"),
                "answers": [{"type": "number", "number": 4, "field": {"ref": "whatever", "type": "opinion_scale"}}],
            },
        }
    ).encode()


def _post(url: str, body: bytes, signature: str | None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[webhooks.SIGNATURE_HEADER] = signature
    return requests.post(url, data=body, headers=headers, timeout=30)


def _typeform_runs(api) -> list[dict]:
    return api.runs("ingest_typeform", run_type="asset_triggered")


def _token_rows(url: str, token: str) -> int:
    return _query(url, "select count(*) from raw.typeform__responses where response_token = %s", (token,))[0][0]


def test_a_survey_webhook_lands_its_response_once_and_a_forged_one_nothing(stack, receiver):
    api, url, company = stack["api"], stack["url"], stack["sim"].company
    (wave,) = company.survey_waves_for("typeform")
    latest = max(wave.responses, key=lambda r: r.submitted_at)
    latest_day = latest.submitted_at.date()
    # the nightly load of the day before: every earlier response is landed, the latest one is not
    before = api.trigger("ingest_typeform", latest_day - timedelta(days=1))
    assert api.wait_for_runs([("ingest_typeform", before["dag_run_id"])], 120) == {
        ("ingest_typeform", before["dag_run_id"]): "success"
    }
    assert _token_rows(url, latest.token) == 0
    landed_before = _query(url, "select count(*) from raw.typeform__responses")[0][0]

    class Response:  # the webhook's view of the response: what Typeform sends about it
        form_id, token, landed_at, submitted_at = wave.form_id, latest.token, latest.landed_at, latest.submitted_at

    body = _delivery("evt-latest-1", Response)
    good = webhooks.signature(receiver["secret"], body)

    # forged: wrong secret, tampered body, no signature → refused; nothing queued or landed
    for signature, sent in [
        (webhooks.signature("not-the-secret", body), body),
        (good, body.replace(b"4", b"5")),
        (None, body),
    ]:
        refused = _post(receiver["url"], sent, signature)
        assert refused.status_code == 401, refused.text
        assert "error" in refused.json()
    malformed = b'{"event_id": "x", "event_type": "form_response"}'
    assert _post(receiver["url"], malformed, webhooks.signature(receiver["secret"], malformed)).status_code == 422
    time.sleep(3)  # a few scheduler loops
    assert _typeform_runs(api) == []
    assert api.request("GET", "/dags/ingest_typeform/assets/queuedEvents")["queued_events"] == []
    assert _token_rows(url, latest.token) == 0

    # genuine: accepted → one asset event → one asset-triggered run that lands the response
    accepted = _post(receiver["url"], body, good)
    assert accepted.status_code == 202, accepted.text
    run = wait_until(lambda: _typeform_runs(api), 60, "the asset-triggered ingest_typeform run")[0]
    states = api.wait_for_runs([("ingest_typeform", run["dag_run_id"])], 180)
    assert set(states.values()) == {"success"}, states
    events = api.request("GET", f"/dags/ingest_typeform/dagRuns/{run['dag_run_id']}/upstreamAssetEvents")
    assert [e["extra"]["response"] for e in events["asset_events"]] == [latest.token]
    assert "answers" not in json.dumps(events)  # ids and times only: answers never enter Airflow
    landed = api.request(
        "GET",
        f"/dags/ingest_typeform/dagRuns/{run['dag_run_id']}/taskInstances/land_responses/xcomEntries/return_value",
    )["value"]
    assert (landed["night"], landed["submissions"]) == (latest_day.isoformat(), 1)  # the event told the task
    assert _token_rows(url, latest.token) == 1
    landed_after = _query(url, "select count(*) from raw.typeform__responses")[0][0]
    assert landed_after > landed_before

    # redelivered (same event id), and resent with a new event id for the same response: nothing triggered twice
    for event_id in ("evt-latest-1", "evt-latest-2"):
        again = _delivery(event_id, Response)
        duplicate = _post(receiver["url"], again, webhooks.signature(receiver["secret"], again))
        assert duplicate.status_code == 200, duplicate.text
        assert duplicate.json()["status"] == "duplicate"
    time.sleep(3)
    assert len(_typeform_runs(api)) == 1
    assert len(api.asset_events("typeform.submissions")) == 1
    assert api.request("GET", "/dags/ingest_typeform/assets/queuedEvents")["queued_events"] == []
    assert _token_rows(url, latest.token) == 1
    assert _query(url, "select count(*) from raw.typeform__responses")[0][0] == landed_after


# ---- 2. and 3. a backfill, its asset chain, and the same backfill again ------------------------------------------


def _snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row, per raw data table and per `bi` relation."""
    with psycopg.connect(url) as conn:
        raw = [r[0] for r in conn.execute(RAW_DATA_TABLES_QUERY).fetchall()]
        bi = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'bi' order by 1"
            ).fetchall()
        ]
        snapshot = {}
        for schema, table in [("raw", t) for t in raw] + [("bi", t) for t in bi]:
            snapshot[f"{schema}.{table}"] = conn.execute(
                f"select count(*), coalesce(md5(string_agg(t::text, e'\\n' order by t::text)), '')"
                f' from "{schema}"."{table}" t'
            ).fetchone()
    return snapshot


@pytest.fixture(scope="module")
def first_backfill(stack):
    api, url = stack["api"], stack["url"]
    started = time.monotonic()
    result = airflow_stack.backfill(api, NIGHTS[0], NIGHTS[-1], timeout=900)
    wall = time.monotonic() - started
    print(
        f"\n[orchestration] backfill {NIGHTS[0]}..{NIGHTS[-1]} ({len(result['ingestion'])} ingestion DAGs × "
        f"{len(NIGHTS)} nights + one build): {wall:.1f} s"
    )
    loads = _query(url, "select count(*) from raw._loads")[0][0]
    return {"result": result, "snapshot": _snapshot(url), "loads": loads, "wall": wall}


def test_a_backfill_replays_every_night_of_every_source(stack, first_backfill):
    api = stack["api"]
    result = first_backfill["result"]
    assert set(result["ingestion"]) == {d["dag_id"] for d in api.dags(tags=["ingestion"])}
    for dag_id, states in result["ingestion"].items():
        assert states == {n.isoformat(): "success" for n in NIGHTS}, dag_id
        runs = api.runs_for_nights(dag_id, NIGHTS[0], NIGHTS[-1])
        # Airflow backfill runs, but the last night's: replayed like any night, so its Asset events build once
        assert [runs[n]["run_type"] for n in NIGHTS[:-1]] == ["backfill"] * (len(NIGHTS) - 1), dag_id
    assert all(rows > 0 for name, (rows, _) in first_backfill["snapshot"].items() if name.startswith("raw.advocacy"))


def test_the_ingestion_asset_events_trigger_transform_audit_publish(stack, first_backfill):
    """The asset chain: the raw Asset events of the ingestion runs create the transform run, which builds with dbt,
    passes the GX audit, publishes `bi` and emits the `bi` Asset."""
    api, url = stack["api"], stack["url"]
    result = first_backfill["result"]
    transform = result["transform"]
    assert result["triggered_by"] == "assets"
    assert transform["run_type"] == "asset_triggered"
    assert transform["state"] == "success"
    tasks = {
        ti["task_id"]: ti["state"] for ti in api.task_instances("transform_audit_publish", transform["dag_run_id"])
    }
    assert tasks == {
        "take_transform_lease": "success",
        "dbt_build": "success",
        "audit": "success",
        "publish": "success",
        "release_transform_lease": "success",
    }
    consumed = api.request(
        "GET", f"/dags/transform_audit_publish/dagRuns/{transform['dag_run_id']}/upstreamAssetEvents"
    )
    sources = {(e["source_dag_id"], e["source_run_id"]) for e in consumed["asset_events"]}
    last = NIGHTS[-1]
    last_runs = {(d, api.runs_for_nights(d, last, last)[last]["dag_run_id"]) for d in result["ingestion"]}
    assert last_runs <= sources  # it consumed the raw Asset event of every ingestion DAG's run of the last night
    assert all(e["name"].startswith("raw.") for e in consumed["asset_events"])
    bi_events = api.request("GET", "/assets/events", params={"source_dag_id": "transform_audit_publish"})
    assert [e["name"] for e in bi_events["asset_events"] if e["source_run_id"] == transform["dag_run_id"]] == ["bi"]
    assert _query(url, "select count(*) from bi.motivation_attribution")[0][0] > 0


def test_the_same_backfill_again_leaves_what_one_run_left(stack, first_backfill):
    api, url = stack["api"], stack["url"]
    started = time.monotonic()
    again = airflow_stack.backfill(api, NIGHTS[0], NIGHTS[-1], timeout=900)
    print(f"\n[orchestration] the same backfill again: {time.monotonic() - started:.1f} s")
    for dag_id, states in again["ingestion"].items():
        assert states == {n.isoformat(): "success" for n in NIGHTS}, dag_id
    assert again["transform"]["state"] == "success"
    assert again["transform"]["dag_run_id"] != first_backfill["result"]["transform"]["dag_run_id"]  # built again

    assert _snapshot(url) == first_backfill["snapshot"]
    assert first_backfill["snapshot"]["bi.motivation_attribution"][0] > 0
    # every load ran again, and not one of them landed a row
    count, inserted, statuses = _query(
        url,
        "select count(*), coalesce(sum(rows_inserted), 0), array_agg(distinct status) from raw._loads"
        " where load_id not in (select load_id from raw._loads order by started_at limit %s)",
        (first_backfill["loads"],),
    )[0]
    assert count >= len(again["ingestion"]) * len(NIGHTS)
    assert (inserted, statuses) == (0, ["success"])
