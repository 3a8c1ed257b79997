"""`sharewhy webhooks serve`: receives survey-submission webhooks and turns each accepted one into an Airflow asset event.

    POST /webhooks/typeform     a Typeform webhook delivery (`form_response`)
    GET  /health

A delivery is accepted only when its `Typeform-Signature` header is `sha256=<base64 of HMAC-SHA256(secret, raw
body)>` for the secret in SHAREWHY_TYPEFORM_WEBHOOK_SECRET (from the environment only, never argv or a file), and its
body is a completed-response event with an event id, a form id, a response token and a submission time. Then it
posts an event of the `typeform.submissions` Asset to Airflow's REST API (`POST /api/v2/assets/events`), which
queues `ingest_typeform` at once instead of at night. The event carries ids and times only, never answers.

Answers:
- 202 accepted (an asset event was created); 200 duplicate (this event id or response token was accepted before:
  nothing is triggered twice — Typeform redelivers until it gets a 2xx, and resends on form edits);
- 400 body is not JSON, or nested too deeply to parse; 401 signature missing or wrong; 415 not JSON content;
  422 JSON but not a completed-response event; 404 / 405 unknown path or method;
- 503 Airflow could not be reached: the delivery is not recorded, so Typeform's retry goes through later.

No client, signed or not, can hold more than a bounded share of the receiver (limits in sharewhy/settings.py):
- the body is read only after its Content-Length is checked: 411 missing, 400 not a plain number (`-1` would read to
  the end of the stream), 413 over SHAREWHY_WEBHOOK_MAX_BODY_BYTES; 400 when the body ends short of it;
- a whole request must arrive within SHAREWHY_WEBHOOK_REQUEST_TIMEOUT_SECONDS: a connection idle or trickling past
  that is closed (408 when the headers came but the body stopped);
- at most SHAREWHY_WEBHOOK_MAX_CONNECTIONS connections are served at once, one thread each; a connection over that
  is answered 503 with Retry-After at once and closed.

Deliveries are recorded in a small SQLite file (SHAREWHY_WEBHOOK_STATE_DIR, default `.sharewhy/webhooks/`):
event id and (form id, token) are unique, and a delivery is claimed before the event is posted, so two concurrent
copies of one webhook trigger one event. Airflow is reached at SHAREWHY_AIRFLOW_API_URL (default
http://127.0.0.1:8080) as SHAREWHY_AIRFLOW_USERNAME (default admin) with SHAREWHY_AIRFLOW_PASSWORD.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import io
import json
import logging
import math
import os
import signal
import socket
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from sharewhy import settings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
TYPEFORM_PATH = "/webhooks/typeform"
SIGNATURE_HEADER = "Typeform-Signature"
SECRET_ENV = "SHAREWHY_TYPEFORM_WEBHOOK_SECRET"
#: The asset whose events start `ingest_typeform` (dags/pipeline/assets.py: TYPEFORM_SUBMISSIONS).
SUBMISSIONS_ASSET = "typeform.submissions"
#: A claimed delivery whose event was never confirmed (the receiver died in between) may be retried after this.
CLAIM_TIMEOUT_SECONDS = 60.0


def signature(secret: str | bytes, body: bytes) -> str:
    """Typeform's signature of a payload: `sha256=` + base64 of HMAC-SHA256(secret, raw body)."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def signature_matches(secret: str | bytes, body: bytes, header: str) -> bool:
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().encode())


class Rejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Submission:
    event_id: str
    form_id: str
    token: str
    submitted_at: str

    def event_extra(self) -> dict[str, str]:
        """The asset event's `extra`: ids and time only. The response token goes under `response`, because Airflow
        masks any key containing "token" in its UI and API (it is an id here, not a credential)."""
        return {
            "source": "typeform",
            "delivery": "webhook",
            "event_id": self.event_id,
            "form_id": self.form_id,
            "response": self.token,
            "submitted_at": self.submitted_at,
        }


def parse_submission(body: bytes) -> Submission:
    """The ids and time of a completed-response webhook; Rejected(400/422) naming what is wrong."""
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Rejected(400, f"body is not JSON: {error}") from None
    except RecursionError:
        raise Rejected(400, "body is JSON nested too deeply to parse") from None
    if not isinstance(event, dict):
        raise Rejected(422, "body must be a JSON object")
    if event.get("event_type") != "form_response":
        raise Rejected(
            422, f"event_type must be 'form_response' (a completed response), got {event.get('event_type')!r}"
        )
    response = event.get("form_response")
    if not isinstance(response, dict):
        raise Rejected(422, "form_response must be an object")
    fields = {"event_id": event.get("event_id"), "form_id": response.get("form_id"), "token": response.get("token")}
    for name, value in fields.items():
        if not isinstance(value, str) or not value.strip():
            raise Rejected(422, f"{name} must be a non-empty string")
    submitted_at = response.get("submitted_at")
    try:
        moment = datetime.fromisoformat(str(submitted_at).replace("Z", "+00:00"))
    except ValueError:
        raise Rejected(422, f"form_response.submitted_at must be an ISO 8601 time, got {submitted_at!r}") from None
    if moment.tzinfo is None:
        raise Rejected(422, f"form_response.submitted_at must carry a UTC offset, got {submitted_at!r}")
    return Submission(fields["event_id"], fields["form_id"], fields["token"], moment.isoformat())


class DeliveryLog:
    """Every accepted delivery, keyed twice (event id; form id + response token), in one SQLite file."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.execute(
                "create table if not exists deliveries ("
                " event_id text primary key, form_id text not null, token text not null,"
                " submitted_at text not null, claimed_at real not null, asset_event_id integer,"
                " unique (form_id, token))"
            )

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("pragma journal_mode=wal")
        return conn

    def claim(self, submission: Submission) -> bool:
        """True when this delivery is new and now claimed by the caller; False for a duplicate (accepted before, or
        being accepted right now by another request)."""
        with self._lock, self._connect() as conn:
            conn.execute("begin immediate")
            try:
                rows = conn.execute(
                    "select event_id, claimed_at, asset_event_id from deliveries"
                    " where event_id = ? or (form_id = ? and token = ?)",
                    (submission.event_id, submission.form_id, submission.token),
                ).fetchall()
                stale = [r[0] for r in rows if r[2] is None and time.time() - r[1] > CLAIM_TIMEOUT_SECONDS]
                if len(stale) < len(rows):
                    conn.execute("commit")
                    return False
                conn.executemany("delete from deliveries where event_id = ?", [(e,) for e in stale])
                conn.execute(
                    "insert into deliveries (event_id, form_id, token, submitted_at, claimed_at) values (?, ?, ?, ?, ?)",
                    (submission.event_id, submission.form_id, submission.token, submission.submitted_at, time.time()),
                )
                conn.execute("commit")
                return True
            except BaseException:
                conn.execute("rollback")
                raise

    def confirm(self, submission: Submission, asset_event_id: int) -> None:
        with self._lock, self._connect() as conn:
            conn.execute(
                "update deliveries set asset_event_id = ? where event_id = ?", (asset_event_id, submission.event_id)
            )

    def release(self, submission: Submission) -> None:
        """Forget a claim whose event could not be posted, so the sender's retry is not taken for a duplicate."""
        with self._lock, self._connect() as conn:
            conn.execute("delete from deliveries where event_id = ? and asset_event_id is null", (submission.event_id,))

    def count(self) -> int:
        with self._connect() as conn:
            return conn.execute("select count(*) from deliveries where asset_event_id is not null").fetchone()[0]


class AssetEvents(Protocol):
    def create_asset_event(self, asset_name: str, extra: dict[str, Any]) -> dict[str, Any]: ...


class Receiver:
    """What to answer to a delivery (no HTTP here, so it is testable on its own)."""

    def __init__(self, secret: str, deliveries: DeliveryLog, airflow: AssetEvents):
        if not secret:
            raise ValueError(f"the webhook secret is empty: set {SECRET_ENV}")
        self._secret = secret
        self._deliveries = deliveries
        self._airflow = airflow

    def typeform(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            return self._typeform(headers, body)
        except Rejected as rejected:
            log.warning("typeform webhook refused (%d): %s", rejected.status, rejected.message)
            return rejected.status, {"error": rejected.message}

    def _typeform(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        header = headers.get(SIGNATURE_HEADER.lower())
        if not header:
            raise Rejected(401, f"missing {SIGNATURE_HEADER} header")
        if not header.startswith("sha256="):
            raise Rejected(401, f"{SIGNATURE_HEADER} must be 'sha256=<base64 HMAC-SHA256 of the body>'")
        if not signature_matches(self._secret, body, header):
            raise Rejected(401, f"{SIGNATURE_HEADER} does not match the body")
        content_type = headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise Rejected(415, f"content type must be application/json, got {content_type!r}")
        submission = parse_submission(body)
        if not self._deliveries.claim(submission):
            log.info(
                "typeform webhook %s (response %s) is a duplicate: nothing triggered",
                submission.event_id,
                submission.token,
            )
            return 200, {"status": "duplicate", "event_id": submission.event_id, "triggered": False}
        try:
            event = self._airflow.create_asset_event(SUBMISSIONS_ASSET, submission.event_extra())
        except Exception as error:  # Airflow down, login refused, asset unknown: the sender retries later
            self._deliveries.release(submission)
            log.error("could not post the asset event for %s: %s", submission.event_id, error)
            return 503, {"error": f"could not hand the submission to Airflow ({type(error).__name__}); retry later"}
        self._deliveries.confirm(submission, int(event["id"]))
        log.info("typeform webhook %s accepted: asset event %s", submission.event_id, event["id"])
        return 202, {
            "status": "accepted",
            "event_id": submission.event_id,
            "asset_event_id": event["id"],
            "triggered": True,
        }


class _DeadlineReader(io.RawIOBase):
    """A connection's bytes until a deadline: each read waits only for the time left, so a client that sends nothing,
    or a byte now and then, holds its connection (and thread) no longer than the request timeout."""

    def __init__(self, connection: socket.socket, deadline: float):
        self._connection = connection
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        self._connection.settimeout(left)
        return self._connection.recv_into(buffer)


def content_length(values: list[str]) -> int:
    """The body's length from its Content-Length header(s), checked before a byte of the body is read: Rejected
    411 when missing, 400 when not one plain decimal number (`-1` would read to the end of the stream, `1_0` is
    Python's int syntax, not HTTP's), 413 when over the limit."""
    if not values:
        raise Rejected(411, "Content-Length required")
    distinct = {value.strip() for value in values}
    text = distinct.pop()
    if distinct or not (text.isascii() and text.isdigit()):
        raise Rejected(400, f"Content-Length must be one decimal number of bytes, got {', '.join(values)[:80]!r}")
    length = int(text)
    if length > settings.WEBHOOK_MAX_BODY_BYTES:
        raise Rejected(413, f"body larger than {settings.WEBHOOK_MAX_BODY_BYTES} bytes")
    return length


class _Handler(BaseHTTPRequestHandler):
    server: _WebhookServer
    server_version = "sharewhy-webhooks"

    def setup(self) -> None:
        super().setup()
        self.rfile.close()
        deadline = time.monotonic() + settings.WEBHOOK_REQUEST_TIMEOUT_SECONDS
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, deadline))

    def do_POST(self) -> None:
        if self.path.split("?")[0] != TYPEFORM_PATH:
            return self._answer(404, {"error": f"no webhook at {self.path}"})
        try:
            length = content_length(self.headers.get_all("Content-Length") or [])
            body = self._read_body(length)
        except Rejected as rejected:
            log.warning("typeform webhook refused (%d): %s", rejected.status, rejected.message)
            return self._answer(rejected.status, {"error": rejected.message})
        headers = {name.lower(): value for name, value in self.headers.items()}
        self._answer(*self.server.receiver.typeform(headers, body))

    def _read_body(self, length: int) -> bytes:
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            timeout = settings.WEBHOOK_REQUEST_TIMEOUT_SECONDS
            raise Rejected(408, f"the body did not arrive within {timeout} s") from None
        if len(body) < length:
            raise Rejected(400, f"the body ended after {len(body)} of its {length} bytes")
        return body

    def do_GET(self) -> None:
        if self.path == "/health":
            return self._answer(200, {"status": "ok"})
        self._answer(404 if self.path != TYPEFORM_PATH else 405, {"error": f"GET {self.path} is not served"})

    def do_PUT(self) -> None:
        self._answer(405, {"error": f"{self.command} is not allowed"})

    do_DELETE = do_PATCH = do_PUT

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.connection.settimeout(settings.WEBHOOK_REQUEST_TIMEOUT_SECONDS)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)


class _WebhookServer(ThreadingHTTPServer):
    """One thread per connection, at most WEBHOOK_MAX_CONNECTIONS at once; a connection over that is answered 503
    at once (from the accepting thread: a short write into an empty socket buffer) and closed."""

    daemon_threads = True
    #: Connections the kernel queues before they are accepted (socketserver's default, 5, leaves a burst retrying its
    #: SYN for seconds instead of being answered at once).
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], receiver: Receiver):
        self.receiver = receiver
        self._slots = threading.BoundedSemaphore(settings.WEBHOOK_MAX_CONNECTIONS)
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            return self._refuse_busy(request, client_address)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse_busy(self, request: socket.socket, client_address: Any) -> None:
        log.warning(
            "webhook connection from %s refused (503): %d connections are being served",
            client_address[0],
            settings.WEBHOOK_MAX_CONNECTIONS,
        )
        data = json.dumps({"error": "too many connections at once; retry later"}).encode()
        retry_after = math.ceil(settings.WEBHOOK_REQUEST_TIMEOUT_SECONDS)
        head = (
            f"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: {retry_after}\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        )
        try:
            request.settimeout(1.0)
            request.sendall(head.encode() + data)
        except OSError:
            pass  # the client is gone already: nothing to tell it
        self.shutdown_request(request)


class RunningReceiver:
    """A receiver serving in a background thread (tests, `serve`)."""

    def __init__(self, receiver: Receiver, port: int = 0, host: str = HOST):
        self._server = _WebhookServer((host, port), receiver)
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self.typeform_url = self.url + TYPEFORM_PATH
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> RunningReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def receiver_from_environment(environ: dict[str, str] | None = None) -> Receiver:
    """The receiver configured by the environment (secret, Airflow URL and credentials, state folder)."""
    from sharewhy.airflow_api import AirflowApi

    env = os.environ if environ is None else environ
    secret = env.get(SECRET_ENV, "")
    if not secret:
        raise ValueError(f"set {SECRET_ENV} to the secret configured on the Typeform webhook")
    password = env.get("SHAREWHY_AIRFLOW_PASSWORD", "")
    if not password:
        raise ValueError("set SHAREWHY_AIRFLOW_PASSWORD (and SHAREWHY_AIRFLOW_USERNAME) for Airflow's REST API")
    airflow = AirflowApi(
        env.get("SHAREWHY_AIRFLOW_API_URL", f"http://127.0.0.1:{settings.AIRFLOW_API_PORT}"),
        env.get("SHAREWHY_AIRFLOW_USERNAME", "admin"),
        password,
    )
    state_dir = Path(env.get("SHAREWHY_WEBHOOK_STATE_DIR", settings.WEBHOOK_STATE_DIR))
    return Receiver(secret, DeliveryLog(state_dir / "deliveries.sqlite3"), airflow)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sharewhy webhooks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="receive survey webhooks until SIGTERM/SIGINT")
    serve.add_argument("--port", type=int, default=settings.WEBHOOK_PORT, help="0 picks a free port")
    serve.add_argument(
        "--host",
        default=HOST,
        help="address to bind (default 127.0.0.1; in a container, 0.0.0.0 with the port published on the host's 127.0.0.1)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        receiver = receiver_from_environment()
    except ValueError as error:
        print(f"sharewhy webhooks: {error}", file=sys.stderr)
        return 2
    stop_requested = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop_requested.set())
    try:
        running = RunningReceiver(receiver, args.port, args.host)
    except OSError as error:
        print(f"sharewhy webhooks: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    with running:
        print(json.dumps({"url": running.typeform_url, "health": running.url + "/health"}), flush=True)
        while not stop_requested.wait(timeout=1.0):
            pass
    return 0
