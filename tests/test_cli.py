"""Command-line mistakes are usage errors that name the argument or variable (exit 2), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _sharewhy(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sharewhy.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["demo", "--night", "garbage"], {}, "argument --night: 'garbage' is not a date; expected YYYY-MM-DD"),
        (["airflow", "night"], {}, "airflow night: the first night is required (YYYY-MM-DD)"),
        (["airflow", "backfill", "2026-11-01", "2026-13-01"], {}, "argument last: '2026-13-01' is not a date"),
        (["airflow", "night", "2026-11-01", "2026-11-02"], {}, "one night only"),
        (["warehouse", "status"], {"SHAREWHY_TASK_RETRIES": "abc"}, "SHAREWHY_TASK_RETRIES='abc' is not a whole number"),
        (["warehouse", "status"], {"SHAREWHY_TASK_TIMEOUT_MINUTES": "0"}, "SHAREWHY_TASK_TIMEOUT_MINUTES=0 is below"),
    ],
    ids=["garbage night", "no night", "bad last night", "two nights for one", "retries abc", "timeout 0"],
)
def test_a_mistake_is_a_usage_error_naming_what_is_wrong(args, env, message):
    result = _sharewhy(*args, **env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
