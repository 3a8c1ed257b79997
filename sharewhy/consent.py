"""`sharewhy tokens …`: the member token store from the command line, and the demo's consent set-up.

    sharewhy tokens new-key                       print a new Fernet key (put it first in SHAREWHY_TOKEN_KEYS)
    sharewhy tokens import FILE|-                 the advocacy platform's consent export (CSV or JSON), validated
    sharewhy tokens report [--days 14]            tokens revoked, needing consent, or whose consent ends within N days
    sharewhy tokens rotate-key                    re-encrypt every token under the newest key
    sharewhy tokens consent --employee E --network linkedin|x [--port 8765]
                                                  one employee's OAuth consent (PKCE on X), callback on 127.0.0.1

The encryption keys come from `SHAREWHY_TOKEN_KEYS` (comma-separated Fernet keys, newest first); the OAuth app of
`consent` from the network's connection (`AIRFLOW_CONN_LINKEDIN_API` / `AIRFLOW_CONN_X_API`: `login` or
`extra.client_id`, `extra.client_secret`, `extra.token_url`, `extra.authorize_url`). Token values are never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sharewhy import settings

KEYS_ENV = "SHAREWHY_TOKEN_KEYS"
#: The demo's (and `make airflow`'s) key when none is given: generated once, mode 0600, in the state folder.
LOCAL_KEYS_FILE = settings.STATE_DIR / "secrets" / "token_keys"


def local_token_keys() -> str:
    """SHAREWHY_TOKEN_KEYS, else the local state folder's key (created on first use, readable by its owner only).
    For the demo and `make airflow` only: production gives the keys through the environment or the Airflow
    connection `sharewhy_token_keys` (its password)."""
    keys = os.environ.get(KEYS_ENV)
    if keys:
        return keys
    from ingestion.tokens import TokenCipher

    if not LOCAL_KEYS_FILE.exists():
        LOCAL_KEYS_FILE.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(LOCAL_KEYS_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(TokenCipher.new_key() + "\n")
    return LOCAL_KEYS_FILE.read_text().strip()


def enrol_from_export_api(warehouse_url: str, export_url: str, api_token: str, keys: str) -> dict:
    """Fetch the advocacy platform's consent export over its API and import it (nothing written to disk)."""
    import requests

    from ingestion.tokens import TokenCipher, TokenStore, import_records

    response = requests.get(export_url, headers={"Authorization": f"Bearer {api_token}"}, timeout=30)
    response.raise_for_status()
    records = response.json()["consents"]
    store = TokenStore(warehouse_url, TokenCipher(keys))
    result = import_records(store, enumerate(records, 1), "advocacy-api")
    return {"imported": result.imported, "rejected": len(result.rejected), "by_status": result.by_status}


def coverage_lines(conn) -> list[str]:
    """What `bi.consent_coverage` says of the latest month (for the demo's summary)."""
    exists = conn.execute("select to_regclass('bi.consent_coverage')").fetchone()[0]
    if exists is None:
        return []
    rows = conn.execute(
        "select month, network, sharers, sharers_with_valid_token, sharers_revoked, sharers_without_consent,"
        " consent_coverage from bi.consent_coverage where month = (select max(month) from bi.consent_coverage)"
        " order by network"
    ).fetchall()
    lines = [
        "bi.consent_coverage, latest month (sharers whose own token read their member-scoped metrics):",
        "  month        network   sharers  valid token  revoked  no consent  coverage",
    ]
    for month, network, sharers, valid, revoked, without, coverage in rows:
        shown = f"{float(coverage) * 100:6.1f} %" if coverage is not None else "  (not measured)"
        lines.append(f"  {month}  {network:<8} {sharers:>8} {valid:>12} {revoked:>8} {without:>11}  {shown}")
    return lines


def _store():
    from ingestion.tokens import TokenCipher, TokenStore

    return TokenStore(settings.warehouse_url(), TokenCipher(os.environ.get(KEYS_ENV, "")))


def _oauth_app(network: str, port: int):
    from ingestion.oauth import OAuthApp
    from ingestion.tokens import Secret

    conn_id = {"linkedin": settings.LINKEDIN_CONN_ID, "x": settings.X_CONN_ID}[network]
    raw = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if not raw:
        raise SystemExit(f"sharewhy tokens consent: set AIRFLOW_CONN_{conn_id.upper()} (the {network} OAuth app)")
    conn = json.loads(raw)
    extra = conn.get("extra") or {}
    extra = json.loads(extra) if isinstance(extra, str) else extra
    client_id = conn.get("login") or extra.get("client_id")
    if not client_id:
        raise SystemExit(f"sharewhy tokens consent: the {conn_id} connection has no client id (`login`)")
    secret = extra.get("client_secret")
    return OAuthApp(
        network,
        client_id,
        Secret(secret) if secret else None,
        token_url=extra.get("token_url", ""),
        authorize_url=extra.get("authorize_url", ""),
        redirect_uri=f"http://127.0.0.1:{port}/callback",
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="sharewhy tokens", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("new-key", help="print a new Fernet key")
    imported = commands.add_parser("import", help="import a consent export (CSV or JSON; - reads stdin)")
    imported.add_argument("file")
    report = commands.add_parser("report", help="tokens that need a person")
    report.add_argument("--days", type=int, default=14)
    commands.add_parser("rotate-key", help="re-encrypt every token under the newest key")
    consent = commands.add_parser("consent", help="one employee's OAuth consent")
    consent.add_argument("--employee", required=True)
    consent.add_argument("--network", choices=["linkedin", "x"], required=True)
    consent.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)

    from ingestion.tokens import TokenCipher, TokenKeyError

    try:
        if args.command == "new-key":
            print(TokenCipher.new_key())
            return 0
        if args.command == "import":
            return _import(args.file)
        if args.command == "report":
            rows = _store().report(within=timedelta(days=args.days))
            for row in rows:
                ends = row["consent_ends_at"].isoformat() if row["consent_ends_at"] else "-"
                print(
                    f"{row['network']:<9} {row['employee_id']:<14} {row['status']:<14} consent ends {ends}  "
                    f"{row['reason'] or ''}"
                )
            counts = _store().status_counts()
            print(
                "tokens: " + ", ".join(f"{n} {s} {c}" for (n, s), c in sorted(counts.items()))
                if counts
                else "tokens: none stored"
            )
            return 0
        if args.command == "rotate-key":
            print(f"re-encrypted {_store().rotate_keys()} tokens under the newest key of {KEYS_ENV}")
            return 0
        return _consent(args)
    except TokenKeyError as error:
        print(f"sharewhy tokens: {error}", file=sys.stderr)
        return 2


def _import(file: str) -> int:
    from ingestion.tokens import import_records, parse_export

    store = _store()
    if file == "-":
        text, name = sys.stdin.read(), "stdin"
    else:
        path = Path(file)
        if not path.is_file():
            print(f"sharewhy tokens import: no such file: {file}", file=sys.stderr)
            return 2
        text, name = path.read_text(encoding="utf-8-sig"), path.name
    try:
        result = import_records(store, parse_export(text, name), f"import:{name}")
    except ValueError as error:
        print(f"sharewhy tokens import: {error}", file=sys.stderr)
        return 2
    print(f"imported {result.imported} member tokens ({', '.join(f'{k} {v}' for k, v in result.by_status.items())})")
    for rejected in result.rejected:
        print(f"  line {rejected.line}: {rejected.reason}", file=sys.stderr)
    if result.rejected:
        print(f"{len(result.rejected)} lines refused (kept in raw._quarantine without their tokens)", file=sys.stderr)
    return 1 if result.rejected else 0


def _consent(args: argparse.Namespace) -> int:
    from ingestion import oauth
    from ingestion.tokens import MemberToken

    app = _oauth_app(args.network, args.port)
    print(f"Ask employee {args.employee} to open this address and allow access (waiting up to 10 minutes):")
    grant = oauth.consent(app, lambda url: print(f"\n  {url}\n", flush=True))
    now = datetime.now(UTC)
    token = MemberToken(
        args.employee,
        args.network,
        grant.access_token,
        now + timedelta(seconds=grant.expires_in),
        grant.refresh_token,
        now + timedelta(seconds=grant.refresh_expires_in) if grant.refresh_expires_in else None,
        grant.scopes,
    )
    _store().save([token], "oauth")
    print(f"stored {args.network} consent of {args.employee} (encrypted); scopes: {' '.join(grant.scopes)}")
    return 0
