"""A failed night tells someone: a DAG run that fails under Airflow (`dag.test()`) calls `pipeline.alerts`, which
POSTs to the webhook or mails through the SMTP server the `sharewhy_alerts` connection names — and only then.

The failing run: `ingest_hr` for a night whose roster file never arrived (an empty drop folder), in the Airflow home
the demo night prepared (`demo_night`), into a database of its own.
"""

from __future__ import annotations

import json
import os
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from sharewhy import settings

pytestmark = pytest.mark.e2e

NIGHT = "2026-11-25"
SECRET_PATH = "services/T0/B0/not-to-be-logged"


def _fail_a_night(demo_night, database: str, tmp_path, alert_connection: str | None) -> subprocess.CompletedProcess:
    """The failed load is recorded in `database`, not in the demo's (which other tests read)."""
    env = {
        **demo_night["env"],
        "AIRFLOW_HOME": os.path.join(demo_night["env"]["SHAREWHY_HOME"], "airflow"),
        "SHAREWHY_WAREHOUSE_URL": database,
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "SHAREWHY_TASK_RETRIES": "0",
        "SHAREWHY_DROP_DIR": str(tmp_path / "no-drops"),
    }
    (tmp_path / "no-drops" / "hr").mkdir(parents=True)  # the folder is there, the night's roster file is not
    if alert_connection:
        env["AIRFLOW_CONN_SHAREWHY_ALERTS"] = alert_connection
    read_fd, write_fd = os.pipe()
    run = subprocess.run(
        [sys.executable, "-m", "sharewhy_dev.night_runner", NIGHT, "ingest_hr", "--report-fd", str(write_fd)],
        env=env,
        pass_fds=(write_fd,),
        capture_output=True,
        text=True,
        timeout=600,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as reports:
        assert [json.loads(line)["state"] for line in reports] == ["failed"], run.stderr[-3000:]
    return run


@contextmanager
def _webhook() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(
                {"path": self.path, "body": json.loads(self.rfile.read(int(self.headers["Content-Length"])))}
            )
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{SECRET_PATH}", received
    finally:
        server.shutdown()


@contextmanager
def _smtp_sink() -> Iterator[tuple[int, list[dict]]]:
    """The SMTP conversation of RFC 5321 a client needs to hand over one mail (no TLS, no auth)."""
    received: list[dict] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            mail: dict = {"to": []}
            self.wfile.write(b"220 sink ESMTP\r\n")
            for line in self.rfile:
                verb = line.decode().strip().split(" ", 1)[0].upper()
                if verb == "EHLO":
                    self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
                elif verb == "RCPT":
                    mail["to"].append(line.decode().split(":", 1)[1].strip())  # "RCPT TO:<address>" (any case)
                    self.wfile.write(b"250 OK\r\n")
                elif verb == "DATA":
                    self.wfile.write(b"354 go on\r\n")
                    body = []
                    for data in self.rfile:
                        if data == b".\r\n":
                            break
                        body.append(data.decode())
                    mail["data"] = "".join(body)
                    received.append(mail)
                    self.wfile.write(b"250 queued\r\n")
                elif verb == "QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 OK\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()


def test_a_failed_night_posts_one_alert_to_the_webhook_and_never_logs_its_url(demo_night, fresh_db, tmp_path):
    with _webhook() as (url, received):
        run = _fail_a_night(demo_night, fresh_db, tmp_path, url)
    assert len(received) == 1, run.stdout[-3000:]
    alert = received[0]["body"]
    assert received[0]["path"] == f"/{SECRET_PATH}"
    assert alert["dag_id"] == "ingest_hr"
    assert alert["task_id"] == "land_roster"
    assert alert["logical_date"].startswith(NIGHT)
    assert alert["run_id"] and "ingest_hr failed for the night of 2026-11-25" in alert["text"]
    assert SECRET_PATH not in run.stdout + run.stderr


def test_a_failed_night_mails_through_the_smtp_connection(demo_night, fresh_db, tmp_path):
    with _smtp_sink() as (port, received):
        _fail_a_night(
            demo_night,
            fresh_db,
            tmp_path,
            f"smtp://127.0.0.1:{port}?to=oncall%40example.com"
            "&from_email=airflow%40example.com&disable_ssl=true&disable_tls=true",
        )
    assert len(received) == 1
    assert received[0]["to"] == ["<oncall@example.com>"]
    assert "Subject: [sharewhy] ingest_hr failed (2026-11-25" in received[0]["data"]


def test_without_the_connection_a_failed_night_sends_nothing_and_says_so(demo_night, fresh_db, tmp_path):
    run = _fail_a_night(demo_night, fresh_db, tmp_path, None)
    assert "no sharewhy_alerts connection: failure alert not sent" in run.stdout + run.stderr
