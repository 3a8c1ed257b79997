"""One local HTTP server for every simulated source, one path prefix per vendor (`/linkedin/rest/...`,
`/typeform/...`, `/x/2/...`, `/bitly/v4/...`, `/surveymonkey/...`, `/qualtrics/API/v3/...`), and `/health`.

`start()` runs it in a background thread for tests; `main()` is `sharewhy simulate serve`, which writes the shares
drop and the ground truth, prints one JSON ready-line and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sharewhy import settings
from simulator.bitly import DEFAULT_MONTHLY_QUOTA, BitlyApi
from simulator.company import DEFAULT_WORLD, Company, World
from simulator.consent import CLIENT_ID as OAUTH_CLIENT_ID
from simulator.consent import ConsentExport, ConsentRegistry, OAuthEndpoints
from simulator.faults import FaultInjector
from simulator.faults import parse as parse_faults
from simulator.linkedin import DEFAULT_DAILY_QUOTA, LinkedInApi
from simulator.messages import ApiRequest, ApiResponse, VendorApi
from simulator.qualtrics import DEFAULT_POLLS_TO_COMPLETE, QualtricsApi
from simulator.surveymonkey import SurveyMonkeyApi
from simulator.typeform import TypeformApi
from simulator.x import XApi

HOST = "127.0.0.1"
LINKEDIN_PREFIX = "/linkedin/rest"
TYPEFORM_PREFIX = "/typeform"
X_PREFIX = "/x"
BITLY_PREFIX = "/bitly"
SURVEYMONKEY_PREFIX = "/surveymonkey"
QUALTRICS_PREFIX = "/qualtrics"
#: Member consent (simulator.consent): the vendors' OAuth endpoints and the advocacy platform's consent export.
LINKEDIN_OAUTH_PREFIX = "/linkedin/oauth"
X_OAUTH_TOKEN_PREFIX = "/x/2/oauth2"
X_OAUTH_AUTHORIZE_PREFIX = "/x/i/oauth2"
ADVOCACY_PREFIX = "/advocacy"
TOKEN_ENV = "SHAREWHY_SIMULATOR_TOKEN"
TRUTH_FILE_NAME = "ground_truth.json"


class _SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    #: Member reads open a connection per member, dozens at once: socketserver's default backlog of 5 would drop
    #: their SYNs (connect timeouts on a busy machine).
    request_queue_size = 128

    def __init__(self, port: int, apis: Mapping[str, VendorApi], verbose: bool):
        self.apis = apis  # path prefix → the vendor's handler
        self.verbose = verbose
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((HOST, port), _Handler)

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End idle keep-alive connections too, so a stopped simulator answers nothing at all."""
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    server_version = "sharewhy-simulator"
    disable_nagle_algorithm = True  # headers and body are two writes: without TCP_NODELAY each call waits ~40 ms
    server: _SimulatorHTTPServer

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""  # read whole, so the connection can be reused
        path, _, raw_query = self.path.partition("?")
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            response = self._route(path, raw_query, headers, body)
        except Exception:  # a simulator bug must not hang the client: answer 500 and show the traceback
            traceback.print_exc()
            response = ApiResponse(500, {"status": 500, "message": "simulator error"})
        self._send(response)

    def _route(self, path: str, raw_query: str, headers: dict[str, str], body: bytes) -> ApiResponse:
        if path == "/health":
            return ApiResponse(200, {"status": "ok"})
        for prefix, api in self.server.apis.items():
            if path.startswith(prefix + "/"):
                return api.handle(ApiRequest(self.command, path[len(prefix) :], raw_query, headers, body))
        return ApiResponse(404, {"status": 404, "message": f"no simulated endpoint at {path}"})

    def _send(self, response: ApiResponse) -> None:
        if response.delay:
            time.sleep(response.delay)
        if isinstance(response.body, bytes):  # a file (Qualtrics' export ZIP): its type is in the headers
            body = response.body
        else:
            body = json.dumps(response.body, separators=(",", ":")).encode()
        self.send_response(response.status)
        if "Content-Type" not in response.headers:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (an injected timeout)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class Latency:
    """A vendor's round trip: every answer waits `seconds` (in the server's connection thread, like a network)."""

    def __init__(self, api: VendorApi, seconds: float) -> None:
        self._api, self._seconds = api, seconds

    def handle(self, request: ApiRequest) -> ApiResponse:
        response = self._api.handle(request)
        return dataclasses.replace(response, delay=response.delay + self._seconds)

    def __getattr__(self, name: str):  # survey_ids and the like: the wrapped API's
        return getattr(self._api, name)


class RunningSimulator:
    """A simulator serving in a background thread; `stop()` it, or use it as a context manager."""

    def __init__(self, server: _SimulatorHTTPServer, company: Company, truth_path: Path):
        self.company = company
        self.truth_path = truth_path
        self.base_url = f"http://{HOST}:{server.server_address[1]}"
        self.linkedin_base_url = self.base_url + LINKEDIN_PREFIX
        self.typeform_base_url = self.base_url + TYPEFORM_PREFIX
        self.x_base_url = self.base_url + X_PREFIX + "/2"
        self.bitly_base_url = self.base_url + BITLY_PREFIX + "/v4"
        #: SurveyMonkey's token exchange; the `access_url` it answers + "/v3" is the API base.
        self.surveymonkey_token_url = self.base_url + SURVEYMONKEY_PREFIX + "/oauth/token"
        self.surveymonkey_base_url = self.base_url + SURVEYMONKEY_PREFIX + "/v3"
        self.surveymonkey_survey_ids = server.apis[SURVEYMONKEY_PREFIX].survey_ids
        self.qualtrics_base_url = self.base_url + QUALTRICS_PREFIX + "/API/v3"
        self.qualtrics_survey_ids = server.apis[QUALTRICS_PREFIX].survey_ids
        self.form_ids = list(company.form_ids)
        #: Member consent: the registry of member tokens, the OAuth app, and the consent export's address.
        self.consent: ConsentRegistry = server.apis[ADVOCACY_PREFIX]._registry
        self.oauth = {
            "linkedin": {
                "client_id": OAUTH_CLIENT_ID,
                "token_url": self.base_url + LINKEDIN_OAUTH_PREFIX + "/v2/accessToken",
                "authorize_url": self.base_url + LINKEDIN_OAUTH_PREFIX + "/v2/authorization",
            },
            "x": {
                "client_id": OAUTH_CLIENT_ID,
                "token_url": self.base_url + X_OAUTH_TOKEN_PREFIX + "/token",
                "authorize_url": self.base_url + X_OAUTH_AUTHORIZE_PREFIX + "/authorize",
            },
        }
        self.consent_export_url = self.base_url + ADVOCACY_PREFIX + "/v1/consents"
        #: Airflow connection id → what a client needs besides the token: {"base_url": ..., "extra": {...}}.
        self.connections = {
            settings.LINKEDIN_CONN_ID: {
                "base_url": self.linkedin_base_url,
                "extra": {"organization_urn": company.organization_urn, **self.oauth["linkedin"]},
            },
            settings.TYPEFORM_CONN_ID: {"base_url": self.typeform_base_url, "extra": {"form_ids": self.form_ids}},
            settings.X_CONN_ID: {"base_url": self.x_base_url, "extra": dict(self.oauth["x"])},
            settings.BITLY_CONN_ID: {"base_url": self.bitly_base_url, "extra": {}},
            settings.SURVEYMONKEY_CONN_ID: {
                "base_url": self.surveymonkey_base_url,
                "extra": {"survey_ids": self.surveymonkey_survey_ids},
            },
            settings.QUALTRICS_CONN_ID: {
                "base_url": self.qualtrics_base_url,
                "extra": {"survey_ids": self.qualtrics_survey_ids},
            },
        }
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sharewhy-simulator", daemon=True
        )
        self._thread.start()

    @property
    def qualtrics_exports_started(self) -> int:
        return self._server.apis[QUALTRICS_PREFIX].exports_started

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
        self._server.close_connections()

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start(
    as_of: datetime | date,
    seed: int = 7,
    *,
    drop_dir: Path,
    token: str,
    port: int = 0,
    truth_path: Path | None = None,
    linkedin_daily_quota: int = DEFAULT_DAILY_QUOTA,
    x_rate_limit: tuple[int, float] | None = None,
    bitly_monthly_quota: int = DEFAULT_MONTHLY_QUOTA,
    bitly_rate_limit: tuple[int, float] | None = None,
    surveymonkey_limits: tuple[int, int] | None = None,
    qualtrics_polls_to_complete: int = DEFAULT_POLLS_TO_COMPLETE,
    qualtrics_failing_exports: int = 0,
    qualtrics_link_fields: dict[str, str] | None = None,
    faults: Iterable[str] = (),
    survey_opens_on: date | None = None,
    world: World = DEFAULT_WORLD,
    verbose: bool = False,
    consent_revoked_share: float = 0.0,
    consent_expired_share: float = 0.0,
    consent_expiring_share: float = 0.0,
    linkedin_member_daily_quota: int | None = None,
    latency: float = 0.0,
) -> RunningSimulator:
    """Write the shares and HR roster drops and the ground truth for the company at `as_of`, then serve its APIs on
    127.0.0.1.

    A naive `as_of` is UTC, a date is its midnight UTC. `truth_path` defaults to `<drop_dir>/ground_truth.json`.
    `survey_opens_on` pins the latest survey wave's opening day (default: the wave calendar's); `world` picks the
    generating mechanisms (simulator.company.World).
    `x_rate_limit` = (calls, window seconds) for each X endpoint instead of the documented 15-minute limits.
    `bitly_monthly_quota` calls before Bitly's 429 MONTHLY_LIMIT_EXCEEDED; `bitly_rate_limit` = (calls, seconds)
    before its 403 with `X-Ratelimit-Reason`. `surveymonkey_limits` = (calls a minute, calls a day) instead of a
    draft app's 120 and 500. Qualtrics exports complete after `qualtrics_polls_to_complete` progress polls; the
    first `qualtrics_failing_exports` exports fail; `qualtrics_link_fields` (survey id → `externalDataReference`,
    `recipientEmail` or `embedded:<field>`) says where a survey's responses name the respondent. `faults` injects vendor failures on demand (see simulator.faults:
    `429_storm`, `5xx`, `timeout`, `truncated_json`, `drifted_fields`, `expired_token`, `duplicate_deliveries`, each
    for every vendor or `kind:vendor`).
    """
    if not token:
        raise ValueError("the simulator needs a non-empty API token")
    planned = parse_faults(faults)  # before anything is written: an unknown fault is refused at once
    company = Company(seed, as_of, survey_opens_on, world)
    drop_dir = Path(drop_dir)
    company.write_shares_drop(drop_dir)
    company.write_roster_drop(drop_dir)
    truth_path = company.write_ground_truth(Path(truth_path) if truth_path else drop_dir / TRUTH_FILE_NAME)
    consent = ConsentRegistry.for_company(
        company,
        token,
        revoked_share=consent_revoked_share,
        expired_share=consent_expired_share,
        expiring_share=consent_expiring_share,
    )
    member_quota = {"member_daily_quota": linkedin_member_daily_quota} if linkedin_member_daily_quota else {}
    apis = {
        # the OAuth prefixes first: "/x/2/oauth2/…" must not reach the X API below "/x"
        LINKEDIN_OAUTH_PREFIX: OAuthEndpoints(
            consent, "linkedin", {"/v2/accessToken": "token", "/v2/authorization": "authorize"}
        ),
        X_OAUTH_TOKEN_PREFIX: OAuthEndpoints(consent, "x", {"/token": "token"}),
        X_OAUTH_AUTHORIZE_PREFIX: OAuthEndpoints(consent, "x", {"/authorize": "authorize"}),
        ADVOCACY_PREFIX: ConsentExport(consent, token),
        LINKEDIN_PREFIX: LinkedInApi(company, token, linkedin_daily_quota, consent, **member_quota),
        TYPEFORM_PREFIX: TypeformApi(company, token),
        X_PREFIX: XApi(company, token, x_rate_limit, consent),
        BITLY_PREFIX: BitlyApi(company, token, bitly_monthly_quota, bitly_rate_limit),
        SURVEYMONKEY_PREFIX: SurveyMonkeyApi(company, token, SURVEYMONKEY_PREFIX, surveymonkey_limits),
        QUALTRICS_PREFIX: QualtricsApi(
            company, token, qualtrics_polls_to_complete, qualtrics_failing_exports, qualtrics_link_fields
        ),
    }
    vendors = {LINKEDIN_PREFIX: "linkedin", TYPEFORM_PREFIX: "typeform", X_PREFIX: "x", BITLY_PREFIX: "bitly"}
    vendors |= {SURVEYMONKEY_PREFIX: "surveymonkey", QUALTRICS_PREFIX: "qualtrics"}
    for prefix, vendor in vendors.items():
        if vendor in planned:
            apis[prefix] = FaultInjector(vendor, apis[prefix], planned[vendor])
    if latency:
        for prefix in vendors:
            apis[prefix] = Latency(apis[prefix], latency)
    server = _SimulatorHTTPServer(port, apis, verbose)
    return RunningSimulator(server, company, truth_path.resolve())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sharewhy simulate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the simulated APIs until SIGTERM/SIGINT")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    serve.add_argument(
        "--as-of", type=date.fromisoformat, required=True, help="YYYY-MM-DD; the company is observed at its 00:00 UTC"
    )
    serve.add_argument("--seed", type=int, default=7)
    serve.add_argument("--drop-dir", type=Path, required=True, help="the shares export goes to DROP_DIR/advocacy/")
    serve.add_argument("--truth", type=Path, help=f"ground-truth JSON (default: DROP_DIR/{TRUTH_FILE_NAME})")
    serve.add_argument("--linkedin-daily-quota", type=int, default=DEFAULT_DAILY_QUOTA)
    serve.add_argument(
        "--faults",
        default="",
        help="faults to inject, comma-separated, each KIND or KIND:VENDOR (see simulator.faults): 5xx,drifted_fields:x",
    )
    serve.add_argument("--revoked-share", type=float, default=0.0, help="share of members whose grant is revoked")
    serve.add_argument("--expired-share", type=float, default=0.0, help="share holding an expired access token")
    serve.add_argument("--expiring-share", type=float, default=0.0, help="share holding one that expires soon")
    serve.add_argument("--latency", type=float, default=0.0, help="seconds every API answer waits")
    serve.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    token = os.environ.get(TOKEN_ENV)
    if not token:
        print(f"sharewhy simulate: set {TOKEN_ENV} to the API token the simulator should accept", file=sys.stderr)
        return 2

    stop_requested = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop_requested.set())

    try:
        simulator = start(
            args.as_of,
            args.seed,
            drop_dir=args.drop_dir,
            token=token,
            port=args.port,
            truth_path=args.truth,
            linkedin_daily_quota=args.linkedin_daily_quota,
            faults=[spec for spec in args.faults.split(",") if spec.strip()],
            verbose=args.verbose,
            consent_revoked_share=args.revoked_share,
            consent_expired_share=args.expired_share,
            consent_expiring_share=args.expiring_share,
            latency=args.latency,
        )
    except (OSError, ValueError) as error:
        print(f"sharewhy simulate: cannot start: {error}", file=sys.stderr)
        return 1
    with simulator:
        ready = {
            "base_url": simulator.base_url,
            "linkedin": simulator.linkedin_base_url,
            "typeform": simulator.typeform_base_url,
            "x": simulator.x_base_url,
            "bitly": simulator.bitly_base_url,
            "form_ids": simulator.form_ids,
            "truth": str(simulator.truth_path),
            "connections": simulator.connections,
            "consent_export": simulator.consent_export_url,
        }
        print(json.dumps(ready), flush=True)
        while not stop_requested.wait(timeout=1.0):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
