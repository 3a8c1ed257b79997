"""The webhook receiver on its own (no Airflow): Typeform's signature, the 4xx answers, duplicate deliveries, an
unreachable Airflow, the HTTP server and the CLI. The end-to-end path (webhook → asset event → DAG run → raw row)
is in test_orchestration_airflow.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from sharewhy import settings, webhooks

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
        "form_response": {
            "form_id": form_id,
            "token": token,
            "submitted_at": submitted_at,
            "landed_at": "2026-11-25T10:01:00Z",
            "answers": [{"type": "number", "number": 2}],
        },
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
    assert airflow.events == [
        (
            "typeform.submissions",
            {
                "source": "typeform",
                "delivery": "webhook",
                "event_id": "evt-1",
                "form_id": "form-A",
                "response": "tok-1",
                "submitted_at": "2026-11-25T10:11:12+00:00",
            },
        )
    ]
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
    ids=[
        "not-json",
        "not-object",
        "partial",
        "no-event-id",
        "no-token",
        "form-id-not-text",
        "bad-time",
        "naive-time",
        "no-form-response",
    ],
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
    assert (
        webhooks.Receiver(SECRET, webhooks.DeliveryLog(log_path), airflow).typeform(headers_for(body), body)[0] == 202
    )
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
        too_big = b"x" * (settings.WEBHOOK_MAX_BODY_BYTES + 1)
        assert (
            requests.post(running.typeform_url, data=too_big, headers=headers_for(too_big), timeout=5).status_code
            == 413
        )
        assert requests.post(running.url + "/webhooks/other", data=body, timeout=5).status_code == 404
        assert requests.get(running.typeform_url, timeout=5).status_code == 405
    assert len(airflow.events) == 1


def _serve(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sharewhy.cli", "webhooks", "serve", "--port", "0", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
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


# --- hostile requests (issue 14, point 7): nothing unsigned may exhaust the receiver's memory or threads ----------

ATTACK_TIMEOUT_SECONDS = 1.0
ATTACK_MAX_CONNECTIONS = 8


def _status_of(path: str) -> dict[str, int]:
    """Resident memory (now and peak, KiB) and thread count of a process, from /proc."""
    fields = {}
    for line in Path(path).read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "Threads"):
            fields[name] = int(value.split()[0])
    return fields


@pytest.fixture
def served(tmp_path):
    """`sharewhy webhooks serve` in its own process (so its memory and threads can be measured), with a 1 s request
    timeout and 8 connections at once; Airflow unreachable, so a well-formed signed delivery is answered 503."""
    env = {
        **os.environ,
        webhooks.SECRET_ENV: SECRET,
        "SHAREWHY_AIRFLOW_API_URL": "http://127.0.0.1:9",
        "SHAREWHY_AIRFLOW_PASSWORD": "x",
        "SHAREWHY_WEBHOOK_STATE_DIR": str(tmp_path),
        "SHAREWHY_WEBHOOK_REQUEST_TIMEOUT_SECONDS": str(ATTACK_TIMEOUT_SECONDS),
        "SHAREWHY_WEBHOOK_MAX_CONNECTIONS": str(ATTACK_MAX_CONNECTIONS),
    }
    process = _serve(env)
    try:
        url = json.loads(process.stdout.readline())["url"]
        port = int(url.split(":")[2].split("/")[0])
        yield {"url": url, "port": port, "proc": f"/proc/{process.pid}/status"}
    finally:
        process.terminate()
        process.wait(timeout=30)


def _raw_request(port: int, head: bytes) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.sendall(head)
    return connection


def _read_answer(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset after its answer counts as the close)."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def _head(content_length: str | None, extra: str = "") -> bytes:
    lines = [f"POST {webhooks.TYPEFORM_PATH} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


@pytest.mark.parametrize(
    "content_length, status, why",
    [
        (None, 411, "Content-Length required"),
        ("-1", 400, "Content-Length"),
        ("1_0", 400, "Content-Length"),
        ("ten", 400, "Content-Length"),
        (str((1 << 20) + 1), 413, "larger than"),
    ],
    ids=["missing", "negative", "underscored", "not-a-number", "over-the-limit"],
)
def test_a_body_without_a_usable_length_is_refused_before_anything_is_read(served, content_length, status, why):
    connection = _raw_request(served["port"], _head(content_length))  # and no body: an answer must not wait for one
    connection.settimeout(5)
    try:
        answer = _read_answer(connection)
    except TimeoutError:
        pytest.fail(f"Content-Length {content_length!r}: no answer within 5 s (the server is waiting for a body)")
    assert answer.startswith(f"HTTP/1.0 {status} ".encode()), answer[:200]
    assert why in answer.decode()


def test_a_negative_content_length_with_a_large_body_is_refused_without_reading_it(served):
    before = _status_of(served["proc"])
    body_bytes = 64 << 20
    connection = _raw_request(served["port"], _head("-1"))

    def send_body():
        chunk = b"x" * (1 << 20)
        try:
            for _ in range(body_bytes // len(chunk)):
                connection.sendall(chunk)
            connection.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered and closed without reading: what it should do
            pass

    sender = threading.Thread(target=send_body)
    sender.start()
    connection.settimeout(60)
    answer = _read_answer(connection)
    sender.join(timeout=60)
    after = _status_of(served["proc"])
    grew_kib = after["VmHWM"] - before["VmHWM"]
    assert answer.startswith(b"HTTP/1.0 400 "), (answer[:200], f"peak memory grew by {grew_kib} KiB")
    assert grew_kib < 8 * 1024, f"the receiver's peak memory grew by {grew_kib} KiB on an unsigned request"


def test_idle_connections_are_cut_after_the_timeout_and_their_threads_end(served):
    baseline = _status_of(served["proc"])["Threads"]
    idle = [socket.create_connection(("127.0.0.1", served["port"]), timeout=10) for _ in range(50)]
    half_sent = _raw_request(served["port"], b"POST /webhooks/typeform HTTP/1.1\r\nContent-Le")  # trickling headers
    time.sleep(0.5)
    peak = _status_of(served["proc"])["Threads"]
    assert peak <= baseline + ATTACK_MAX_CONNECTIONS, f"{peak - baseline} threads for 51 idle connections"
    time.sleep(ATTACK_TIMEOUT_SECONDS + 1.5)
    after = _status_of(served["proc"])["Threads"]
    assert after <= baseline, f"{after - baseline} threads still held {ATTACK_TIMEOUT_SECONDS + 2} s later"
    # every connection was closed by the server: a read of one still held open would time out here
    answers = [_read_answer(connection) for connection in idle + [half_sent]]
    busy = [a for a in answers if a.startswith(b"HTTP/1.0 503 ")]
    assert len(busy) >= 50 + 1 - ATTACK_MAX_CONNECTIONS  # the connections over the limit were told to retry
    assert all(b"Retry-After:" in a for a in busy)
    assert all(answer == b"" for answer in answers if answer not in busy)  # the others were cut without a word
    body = delivery()
    assert requests.post(served["url"], data=body, headers=headers_for(body), timeout=10).status_code == 503


def test_a_body_that_stops_arriving_is_answered_408_after_the_timeout(served):
    connection = _raw_request(served["port"], _head("100") + b'{"event_id": ')
    connection.settimeout(ATTACK_TIMEOUT_SECONDS + 5)
    started = time.monotonic()
    answer = _read_answer(connection)
    assert answer.startswith(b"HTTP/1.0 408 "), answer[:200]
    assert time.monotonic() - started < ATTACK_TIMEOUT_SECONDS + 2


def _nested(depth: int) -> bytes:
    return b'{"event_type": "form_response", "x": ' + b"[" * depth + b"]" * depth + b"}"


def test_signed_json_nested_too_deeply_is_refused_with_400(receiver, airflow):
    body = _nested(100_000)
    status, answer = receiver.typeform(headers_for(body), body)
    assert status == 400
    assert "nested" in answer["error"]
    assert airflow.events == []


def test_signed_json_nested_too_deeply_gets_an_answer_over_http(served):
    body = _nested(100_000)
    answer = requests.post(served["url"], data=body, headers=headers_for(body), timeout=10)
    assert answer.status_code == 400
    assert "nested" in answer.json()["error"]
