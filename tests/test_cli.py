"""Command-line mistakes are usage errors that name the argument or variable (exit 2), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg.conninfo
import pytest

from sharewhy import settings


def _sharewhy(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sharewhy.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["demo", "--night", "garbage"], {}, "argument --night: 'garbage' is not a date; expected YYYY-MM-DD"),
        (["airflow", "night"], {}, "airflow night: the first night is required (YYYY-MM-DD)"),
        (["airflow", "backfill", "2026-11-01", "2026-13-01"], {}, "argument last: '2026-13-01' is not a date"),
        (["airflow", "night", "2026-11-01", "2026-11-02"], {}, "one night only"),
        (
            ["warehouse", "status"],
            {"SHAREWHY_TASK_RETRIES": "abc"},
            "SHAREWHY_TASK_RETRIES='abc' is not a whole number",
        ),
        (["warehouse", "status"], {"SHAREWHY_TASK_TIMEOUT_MINUTES": "0"}, "SHAREWHY_TASK_TIMEOUT_MINUTES=0 is below"),
    ],
    ids=["garbage night", "no night", "bad last night", "two nights for one", "retries abc", "timeout 0"],
)
def test_a_mistake_is_a_usage_error_naming_what_is_wrong(args, env, message):
    result = _sharewhy(*args, **env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_warehouse_psql_runs_the_shipped_psql_against_the_warehouse(server_url):
    env = {name: value for name, value in os.environ.items() if name != "SHAREWHY_WAREHOUSE_URL"}
    if settings.external_warehouse_url() is None:  # the embedded warehouse (the conftest started it)
        embedded = subprocess.run(
            [sys.executable, "-m", "sharewhy.cli", "warehouse", "psql", "-Atc", "select 1"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (embedded.returncode, embedded.stdout, embedded.stderr) == (0, "1\n", "")
    result = _sharewhy(
        "warehouse",
        "psql",
        "-At",
        "-c",
        "select current_database()",
        SHAREWHY_WAREHOUSE_URL=settings.with_database(server_url, "postgres"),
    )
    assert (result.returncode, result.stdout) == (0, "postgres\n"), result.stderr


def test_warehouse_psql_keeps_the_password_off_its_command_line(server_url):
    url = psycopg.conninfo.make_conninfo(settings.with_database(server_url, "postgres"), password="s3cret-pw")
    shell = r"\! tr '\0' ' ' < /proc/$PPID/cmdline; echo; echo PGPASSWORD=$PGPASSWORD"
    result = _sharewhy("warehouse", "psql", "-c", shell, SHAREWHY_WAREHOUSE_URL=url)
    command_line, password = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert "psql" in command_line and "s3cret-pw" not in command_line
    assert password == "PGPASSWORD=s3cret-pw"


def test_warehouse_psql_says_when_the_embedded_warehouse_is_not_running(tmp_path):
    env = {name: value for name, value in os.environ.items() if name != "SHAREWHY_WAREHOUSE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "sharewhy.cli", "warehouse", "psql", "-c", "select 1"],
        env={**env, "SHAREWHY_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "the embedded warehouse is not running: run `sharewhy warehouse start`" in result.stderr
    assert "Traceback" not in result.stderr


def _sharewhy_without_development_packages(*args: str) -> subprocess.CompletedProcess:
    """The CLI where sharewhy_dev and simulator cannot be imported, as in the production image."""
    blocked = "import sys; sys.modules.update(sharewhy_dev=None, simulator=None); from sharewhy.cli import main; "
    return subprocess.run(
        [sys.executable, "-c", blocked + f"sys.exit(main({list(args)!r}))"], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("args", [["demo"], ["warehouse", "status"], ["simulate", "serve"], ["airflow", "stop"]])
def test_a_development_command_without_the_development_packages_says_so(args):
    result = _sharewhy_without_development_packages(*args)
    assert result.returncode == 2
    assert f"sharewhy {args[0]}: a development command" in result.stderr and "is not installed here" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args", [["webhooks", "serve", "--help"], ["tokens", "report", "--help"], ["tokens", "--help"]]
)
def test_the_production_commands_need_no_development_package(args):
    result = _sharewhy_without_development_packages(*args)
    assert (result.returncode, result.stderr) == (0, "")
    assert "usage:" in result.stdout


def test_an_unknown_option_is_refused_by_name():
    result = subprocess.run(
        [sys.executable, "-m", "sharewhy.cli", "demo", "--no-such-option"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "unrecognized arguments: --no-such-option" in result.stderr
