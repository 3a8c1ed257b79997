"""The local stack's pieces that need no running Airflow: its configuration, the metadata URL, the connections it
hands to Airflow, and stopping process trees (children included, nobody else's)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from sharewhy import settings
from sharewhy_dev import airflow_stack, processes, simulated_sources


@pytest.mark.parametrize(
    "conninfo, url",
    [
        (
            "postgresql://postgres:@/sharewhy?host=/srv/pg/socket",
            "postgresql+psycopg2://postgres@/sharewhy?host=/srv/pg/socket",
        ),
        (
            "user=postgres dbname=airflow_x host=/srv/pg port=5433",
            "postgresql+psycopg2://postgres@/airflow_x?host=/srv/pg&port=5433",
        ),
        (
            "postgresql://air:p%40ss%2Fw0rd@db.internal:5432/airflow",
            "postgresql+psycopg2://air:p%40ss%2Fw0rd@db.internal:5432/airflow",
        ),
    ],
    ids=["unix-socket-url", "unix-socket-conninfo", "tcp-with-password"],
)
def test_the_metadata_url_is_the_warehouse_server_in_sqlalchemy_form(conninfo, url):
    assert airflow_stack.sqlalchemy_url(conninfo) == url


def test_the_environment_keeps_everything_on_127_0_0_1(tmp_path):
    env = airflow_stack.airflow_env(tmp_path, 8123, "postgresql+psycopg2://u@/db?host=/s", {"EXTRA": "1"})
    assert env["AIRFLOW_HOME"] == str(tmp_path)
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(settings.DAGS_DIR)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "2"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8123/execution/"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
    assert env["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "False"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["EXTRA"] == "1"
    commands = {s: airflow_stack._service_command(s, 8123) for s in airflow_stack.SERVICES}
    assert commands["api-server"][1:] == ["api-server", "--host", "127.0.0.1", "--port", "8123", "--workers", "1"]
    assert commands["scheduler"][1:] == ["scheduler", "--skip-serve-logs"]
    assert commands["triggerer"][1:] == ["triggerer", "--skip-serve-logs"]
    assert commands["dag-processor"][1:] == ["dag-processor"]
    assert not any("standalone" in c for command in commands.values() for c in command)


def test_connections_carry_the_token_and_the_base_url():
    env = simulated_sources.connections_env(
        {"typeform_api": {"base_url": "http://127.0.0.1:1/typeform", "extra": {"form_ids": ["f1"]}}}, "tok"
    )
    assert json.loads(env["AIRFLOW_CONN_TYPEFORM_API"]) == {
        "conn_type": "http",
        "password": "tok",
        "extra": {"base_url": "http://127.0.0.1:1/typeform", "form_ids": ["f1"]},
    }


def _tree(tmp_path: Path) -> tuple[subprocess.Popen, list[int]]:
    """A process whose child sits in a process group of its own (as Airflow's task processes do)."""
    script = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\n"
        f"open({str(tmp_path / 'child')!r}, 'w').write(str(child.pid))\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 30
    while not (tmp_path / "child").exists() or not (tmp_path / "child").read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return parent, [parent.pid, int((tmp_path / "child").read_text())]


def test_stopping_kills_children_in_other_process_groups_too(tmp_path):
    parent, pids = _tree(tmp_path)
    processes.kill_trees([parent.pid], timeout=10)
    parent.wait(timeout=10)
    time.sleep(0.2)
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids)


def test_stop_recorded_stops_what_the_state_file_names_and_leaves_reused_pids_alone(tmp_path):
    parent, pids = _tree(tmp_path)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        state = {
            "pids": {"stack": parent.pid, "api-server": bystander.pid},
            "created": {
                "stack": psutil.Process(parent.pid).create_time(),
                "api-server": psutil.Process(bystander.pid).create_time() - 100,
            },  # "another process"
        }
        (tmp_path / airflow_stack.STATE_FILE_NAME).write_text(json.dumps(state))
        assert airflow_stack.running_owner(tmp_path) == parent.pid
        assert airflow_stack.stop_recorded(tmp_path)
        parent.wait(timeout=10)
        assert bystander.poll() is None  # not ours any more: untouched
        assert not (tmp_path / airflow_stack.STATE_FILE_NAME).exists()
        assert airflow_stack.running_owner(tmp_path) is None
        assert not airflow_stack.stop_recorded(tmp_path)
    finally:
        bystander.kill()
        bystander.wait()
