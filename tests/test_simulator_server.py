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
        assert sorted(ready) == [
            "base_url",
            "bitly",
            "connections",
            "consent_export",
            "form_ids",
            "linkedin",
            "truth",
            "typeform",
            "x",
        ]
        surveymonkey = ready["connections"].pop("surveymonkey_api")
        assert surveymonkey["base_url"] == ready["base_url"] + "/surveymonkey/v3"
        assert [len(i) for i in surveymonkey["extra"]["survey_ids"]] == [9]  # string ids of digits
        qualtrics = ready["connections"].pop("qualtrics_api")
        assert qualtrics["base_url"] == ready["base_url"] + "/qualtrics/API/v3"
        assert [i[:3] for i in qualtrics["extra"]["survey_ids"]] == ["SV_"]
        assert ready["linkedin"] == ready["base_url"] + "/linkedin/rest"
        assert ready["typeform"] == ready["base_url"] + "/typeform"
        assert ready["x"] == ready["base_url"] + "/x/2"
        assert ready["bitly"] == ready["base_url"] + "/bitly/v4"
        oauth = {"client_id": "sharewhy-simulator-app"}
        assert ready["connections"] == {
            "linkedin_api": {
                "base_url": ready["linkedin"],
                "extra": {
                    "organization_urn": "urn:li:organization:99295745",
                    **oauth,
                    "token_url": ready["base_url"] + "/linkedin/oauth/v2/accessToken",
                    "authorize_url": ready["base_url"] + "/linkedin/oauth/v2/authorization",
                },
            },
            "typeform_api": {"base_url": ready["typeform"], "extra": {"form_ids": ["motivation-2026w40"]}},
            "x_api": {
                "base_url": ready["x"],
                "extra": {
                    **oauth,
                    "token_url": ready["base_url"] + "/x/2/oauth2/token",
                    "authorize_url": ready["base_url"] + "/x/i/oauth2/authorize",
                },
            },
            "bitly_api": {"base_url": ready["bitly"], "extra": {}},
        }
        assert ready["consent_export"] == ready["base_url"] + "/advocacy/v1/consents"
        assert ready["form_ids"] == ["motivation-2026w40"]
        truth = json.loads((tmp_path / "truth.json").read_text())
        assert ready["truth"] == str(tmp_path / "truth.json")
        assert truth["as_of"] == "2026-11-26T00:00:00Z"  # the given date at 00:00 UTC
        assert len(list((tmp_path / "drop" / "advocacy").glob("shares_*.csv"))) == 28

        response = requests.get(
            f"{ready['typeform']}/forms/{ready['form_ids'][0]}/responses",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )
        typeform_wave = next(wave for wave in truth["survey"]["waves"] if wave["vendor"] == "typeform")
        assert response.json()["total_items"] == typeform_wave["respondents"]
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


def test_faults_are_planned_per_vendor_and_unknown_ones_refused_before_anything_is_written(tmp_path):
    from simulator import faults

    plan = faults.parse(["5xx", "drifted_fields:x"])
    assert plan["x"] == {"5xx", "drifted_fields"} and plan["linkedin"] == {"5xx"}
    assert set(plan) == set(faults.VENDORS)
    for wrong in ("nonsense", "5xx:myspace"):
        with pytest.raises(ValueError, match="unknown"):
            start(datetime(2026, 11, 26, tzinfo=UTC), drop_dir=tmp_path, token=TOKEN, faults=[wrong])
    assert not any(tmp_path.iterdir())


def test_an_injected_fault_answers_in_the_vendors_shape(tmp_path):
    as_of = datetime(2026, 11, 26, tzinfo=UTC)
    with start(as_of, drop_dir=tmp_path, token=TOKEN, faults=["expired_token:linkedin", "429_storm:x"]) as sim:
        linkedin = requests.get(f"{sim.linkedin_base_url}/memberCreatorPostAnalytics", timeout=5)
        x = requests.get(f"{sim.x_base_url}/tweets?ids=1", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        typeform = requests.get(f"{sim.typeform_base_url}/forms/nope/responses", timeout=5)
    assert (linkedin.status_code, linkedin.json()["code"]) == (401, "EXPIRED_ACCESS_TOKEN")
    assert (x.status_code, x.json()["errors"][0]["code"], x.headers["x-rate-limit-remaining"]) == (429, 88, "0")
    assert typeform.status_code == 401  # no fault for Typeform: its own answer to a missing token
