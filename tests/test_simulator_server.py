"""The simulator's process life: `sharewhy simulate serve` (ready line, token from env, SIGTERM) and `stop()`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import requests

from simulator.server import start

TOKEN = "cli-secret-token-5f2a"


def _serve(tmp_path, env):
    command = [sys.executable, "-m", "sharewhy.cli", "simulate", "serve", "--port", "0", "--as-of", "2026-11-26"]
    command += ["--seed", "7", "--drop-dir", str(tmp_path / "drop"), "--truth", str(tmp_path / "truth.json")]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_serve_prints_one_ready_line_serves_and_exits_0_on_sigterm(tmp_path):
    process = _serve(tmp_path, {**os.environ, "SHAREWHY_SIMULATOR_TOKEN": TOKEN})
    try:
        ready = json.loads(process.stdout.readline())
        assert sorted(ready) == ["base_url", "form_ids", "linkedin", "truth", "typeform"]
        assert ready["linkedin"] == ready["base_url"] + "/linkedin/rest"
        assert ready["typeform"] == ready["base_url"] + "/typeform"
        assert ready["form_ids"] == ["motivation-2026w42"]
        truth = json.loads((tmp_path / "truth.json").read_text())
        assert ready["truth"] == str(tmp_path / "truth.json")
        assert truth["as_of"] == "2026-11-26T00:00:00Z"  # the given date at 00:00 UTC
        assert len(list((tmp_path / "drop" / "advocacy").glob("shares_*.csv"))) == 28

        response = requests.get(
            f"{ready['typeform']}/forms/{ready['form_ids'][0]}/responses",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )
        assert response.json()["total_items"] == truth["counts"]["respondents"]
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert stdout == ""  # nothing after the ready line
    assert stderr == ""  # no per-request log lines
    assert TOKEN not in json.dumps(ready) + stdout + stderr


def test_serve_refuses_to_start_without_a_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SHAREWHY_SIMULATOR_TOKEN"}
    process = _serve(tmp_path, env)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert stdout == ""
    assert "SHAREWHY_SIMULATOR_TOKEN" in stderr
    assert not (tmp_path / "truth.json").exists()


def test_stop_closes_kept_alive_connections(tmp_path):
    with requests.Session() as session:
        with start(datetime(2026, 11, 26, tzinfo=UTC), drop_dir=tmp_path, token=TOKEN) as sim:
            assert session.get(f"{sim.base_url}/health", timeout=5).json() == {"status": "ok"}
        with pytest.raises(requests.ConnectionError):
            session.get(f"{sim.base_url}/health", timeout=5)
