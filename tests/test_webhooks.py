"""The webhook receiver on its own (no Airflow): Typeform's signature, the 4xx answers, duplicate deliveries, an
unreachable Airflow, the HTTP server and the CLI. The end-to-end path (webhook → asset event → DAG run → raw row)
is in test_orchestration_airflow.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sharewhy import webhooks

SECRET = "a-webhook-secret"


class FakeAirflow:
    """Records the asset events it is asked to create; can be told to be down."""

    def __init__(self):
        self.events: list[tuple[str, dict]] = []
        self.down = False
        self._lock = threading.Lock()

    def create_asset_event(self, asset_name, extra):
        if self.down:
            raise ConnectionError("airflow is down")
        with self._lock:
            self.events.append((asset_name, extra))
            return {"id": len(self.events)}


def delivery(event_id="evt-1", token="tok-1", form_id="form-A", submitted_at="2026-11-25T10:11:12Z", **changes):
    event = {
        "event_id": event_id,
        "event_type": "form_response",
        "form_response": {"form_id": form_id, "token": token, "submitted_at": submitted_at,
                          "landed_at": "2026-11-25T10:01:00Z", "answers": [{"type": "number", "number": 2}]},
    }
    event.update(changes)
    return json.dumps(event).encode()


def headers_for(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"typeform-signature": webhooks.signature(secret, body), "content-type": "application/json"}


@pytest.fixture
def airflow():
    return FakeAirflow()


@pytest.fixture
def receiver(airflow, tmp_path):
    return webhooks.Receiver(SECRET, webhooks.DeliveryLog(tmp_path / "deliveries.sqlite3"), airflow)


def test_signature_is_typeforms_base64_hmac_sha256_of_the_raw_body():
    body = b'{"event_id":"01H","event_type":"form_response"}'
    expected = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
    assert webhooks.signature("s3cret", body) == "sha256=" + expected
    assert webhooks.signature_matches("s3cret", body, "sha256=" + expected)
    assert not webhooks.signature_matches("s3cret", body + b" ", "sha256=" + expected)


def test_a_signed_submission_becomes_one_asset_event_with_ids_and_times_only(receiver, airflow):
    body = delivery()
    status, answer = receiver.typeform(headers_for(body), body)
    assert (status, answer["status"], answer["triggered"]) == (202, "accepted", True)
    assert airflow.events == [(
        "typeform.submissions",
        {"source": "typeform", "delivery": "webhook", "event_id": "evt-1", "form_id": "form-A", "response": "tok-1",
         "submitted_at": "2026-11-25T10:11:12+00:00"},
    )]
    assert "answers" not in json.dumps(airflow.events)


@pytest.mark.parametrize(
    "headers, why",
    [
        ({}, "missing"),
        ({"typeform-signature": "not-a-signature"}, "must be"),
        ({"typeform-signature": webhooks.signature("another-secret", delivery())}, "does not match"),
        ({"typeform-signature": webhooks.signature(SECRET, delivery(token="tok-2"))}, "does not match"),
    ],
    ids=["no-header", "not-sha256", "wrong-secret", "signature-of-another-body"],
)
def test_a_bad_signature_is_refused_with_401_and_triggers_nothing(receiver, airflow, headers, why):
    status, answer = receiver.typeform(headers, delivery())
    assert status == 401
    assert why in answer["error"]
    assert airflow.events == []


@pytest.mark.parametrize(
    "body, status, why",
    [
        (b"not json", 400, "not JSON"),
        (b"[1, 2]", 422, "JSON object"),
        (delivery(event_type="form_response_partial"), 422, "event_type"),
        (delivery(event_id=""), 422, "event_id"),
        (delivery(token=None), 422, "token"),
        (delivery(form_id=7), 422, "form_id"),
        (delivery(submitted_at="yesterday"), 422, "submitted_at"),
        (delivery(submitted_at="2026-11-25T10:11:12"), 422, "UTC offset"),
        (json.dumps({"event_id": "e", "event_type": "form_response"}).encode(), 422, "form_response"),
    ],
    ids=["not-json", "not-object", "partial", "no-event-id", "no-token", "form-id-not-text", "bad-time",
         "naive-time", "no-form-response"],
)
def test_a_malformed_body_is_refused_with_a_clear_4xx_and_triggers_nothing(receiver, airflow, body, status, why):
    got, answer = receiver.typeform(headers_for(body), body)
    assert got == status
    assert why in answer["error"]
    assert airflow.events == []


def test_a_body_that_is_not_json_content_is_refused(receiver, airflow):
    body = delivery()
    status, answer = receiver.typeform({**headers_for(body), "content-type": "text/plain"}, body)
    assert status == 415
    assert airflow.events == []


def test_duplicate_deliveries_trigger_nothing_twice(receiver, airflow):
    first = delivery("evt-1", "tok-1")
    assert receiver.typeform(headers_for(first), first)[0] == 202
    for again in (first, delivery("evt-2", "tok-1"), delivery("evt-1", "tok-other")):  # same event, or same response
        status, answer = receiver.typeform(headers_for(again), again)
        assert (status, answer["status"], answer["triggered"]) == (200, "duplicate", False)
    other = delivery("evt-3", "tok-3")
    assert receiver.typeform(headers_for(other), other)[0] == 202
    assert [extra["event_id"] for _, extra in airflow.events] == ["evt-1", "evt-3"]


def test_concurrent_copies_of_one_delivery_trigger_one_event(receiver, airflow):
    body = delivery()
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(lambda _: receiver.typeform(headers_for(body), body)[0], range(16)))
    assert statuses == [200] * 15 + [202]
    assert len(airflow.events) == 1


def test_duplicates_are_remembered_across_restarts(airflow, tmp_path):
    body = delivery()
    log_path = tmp_path / "deliveries.sqlite3"
    assert webhooks.Receiver(SECRET, webhooks.DeliveryLog(log_path), airflow).typeform(headers_for(body), body)[0] == 202
    again = webhooks.Receiver(SECRET, webhooks.DeliveryLog(log_path), airflow)
    assert again.typeform(headers_for(body), body)[0] == 200
    assert len(airflow.events) == 1


def test_when_airflow_is_down_the_delivery_is_not_recorded_so_the_retry_goes_through(receiver, airflow):
    body = delivery()
    airflow.down = True
    status, answer = receiver.typeform(headers_for(body), body)
    assert status == 503
    assert "retry" in answer["error"]
    airflow.down = False
    assert receiver.typeform(headers_for(body), body)[0] == 202  # Typeform's retry
    assert len(airflow.events) == 1


def test_an_empty_secret_is_refused():
    with pytest.raises(ValueError, match="SHAREWHY_TYPEFORM_WEBHOOK_SECRET"):
        webhooks.receiver_from_environment({webhooks.SECRET_ENV: "", "SHAREWHY_AIRFLOW_PASSWORD": "x"})


def test_the_http_server_answers_on_127_0_0_1(receiver, airflow):
    with webhooks.RunningReceiver(receiver) as running:
        assert running.url.startswith("http://127.0.0.1:")
        assert requests.get(running.url + "/health", timeout=5).json() == {"status": "ok"}
        body = delivery()
        accepted = requests.post(running.typeform_url, data=body, headers=headers_for(body), timeout=5)
        assert accepted.status_code == 202
        forged = requests.post(running.typeform_url, data=body, headers=headers_for(body, "nope"), timeout=5)
        assert forged.status_code == 401
        assert forged.headers["Content-Type"] == "application/json"
        too_big = b"x" * (webhooks.MAX_BODY_BYTES + 1)
        assert requests.post(running.typeform_url, data=too_big, headers=headers_for(too_big), timeout=5).status_code == 413
        assert requests.post(running.url + "/webhooks/other", data=body, timeout=5).status_code == 404
        assert requests.get(running.typeform_url, timeout=5).status_code == 405
    assert len(airflow.events) == 1


def _serve(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sharewhy.cli", "webhooks", "serve", "--port", "0", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_the_cli_needs_the_secret_from_the_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != webhooks.SECRET_ENV}
    process = _serve({**env, "SHAREWHY_AIRFLOW_PASSWORD": "x"})
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert webhooks.SECRET_ENV in err


def test_the_cli_serves_until_sigterm_and_answers_503_while_airflow_is_unreachable(tmp_path):
    env = {
        **os.environ,
        webhooks.SECRET_ENV: SECRET,
        "SHAREWHY_AIRFLOW_API_URL": "http://127.0.0.1:9",  # nothing listens there
        "SHAREWHY_AIRFLOW_PASSWORD": "x",
        "SHAREWHY_WEBHOOK_STATE_DIR": str(tmp_path),
    }
    process = _serve(env)
    try:
        ready = json.loads(process.stdout.readline())
        assert ready["url"].startswith("http://127.0.0.1:")
        body = delivery()
        answer = requests.post(ready["url"], data=body, headers=headers_for(body), timeout=30)
        assert answer.status_code == 503
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
