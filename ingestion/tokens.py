"""The member token store: each employee's own OAuth tokens per network, encrypted at rest, in schema `consent`.

Member post analytics (LinkedIn `r_member_postAnalytics`) and X's non-public metrics are member-scoped: a member's
token reads that member's posts and no one else's, so every employee grants access themselves (usually through the
advocacy platform, whose consent export `import_file` reads; or `ingestion.oauth`'s consent flow).

Security rules this module keeps:
- the access and refresh tokens are Fernet tokens (AES-128-CBC + HMAC-SHA256, `cryptography`) in `bytea` columns;
  the keys come from the caller (the environment `SHAREWHY_TOKEN_KEYS` or the Airflow connection
  `sharewhy_token_keys`), never from the database or the code. Several keys may be given, newest first: the newest
  encrypts, every one decrypts (`MultiFernet`), and `rotate_keys` re-encrypts every row under the newest, so an old
  key can then be dropped;
- schema `consent` is revoked from PUBLIC and granted to nobody: only its owner (the pipeline's role) reads it, never
  `bi_reader`;
- a decrypted token is a `Secret`: its repr and str are `***`, so neither a log line, an f-string, an exception nor
  an XCom can carry it by accident; `reveal()` is called only where a request header is built;
- rows refused by the import go to `raw._quarantine` with the reason and the line's non-secret fields only.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)

NETWORKS = ("linkedin", "x")
STATUSES = ("valid", "expiring", "revoked", "needs_consent")
#: A token that cannot be renewed without the member (refresh token, or an access token with no refresh token)
#: expiring within this many days is reported and marked `expiring`.
EXPIRING_WITHIN = timedelta(days=14)
#: Refresh an access token before use when it expires within this margin (LinkedIn: 60-day tokens, refreshed in
#: their last two weeks; X: 2-hour tokens, refreshed when less than 15 minutes remain).
REFRESH_MARGIN = {"linkedin": timedelta(days=14), "x": timedelta(minutes=15)}
#: Columns of the consent export (CSV header, or keys of each JSON object). `refresh_token`,
#: `refresh_token_expires_at`, `member_id` and `scopes` may be empty.
EXPORT_FIELDS = (
    "employee_id",
    "network",
    "access_token",
    "refresh_token",
    "expires_at",
    "refresh_token_expires_at",
    "scopes",
    "member_id",
)
REQUIRED_FIELDS = ("employee_id", "network", "access_token", "expires_at")
#: Scopes a token must carry to read what the pipeline reads (LinkedIn member post analytics; X post lookups with
#: non-public metrics, plus offline.access for a refresh token).
REQUIRED_SCOPES = {"linkedin": {"r_member_postAnalytics"}, "x": {"tweet.read", "users.read"}}

SCHEMA_SQL = """
create schema if not exists consent;
revoke all on schema consent from public;

-- One row per employee × network: that member's own OAuth tokens, Fernet-encrypted (never plain text).
create table if not exists consent.member_tokens (
    employee_id        text not null,
    network            text not null check (network in ('linkedin', 'x')),
    member_id          text,
    access_token       bytea not null,
    refresh_token      bytea,
    scopes             text[] not null default '{}',
    access_expires_at  timestamptz not null,
    refresh_expires_at timestamptz,
    last_refreshed_at  timestamptz,
    status             text not null check (status in ('valid', 'expiring', 'revoked', 'needs_consent')),
    status_reason      text,
    granted_via        text not null,
    updated_at         timestamptz not null default clock_timestamp(),
    primary key (employee_id, network)
);

-- What happened to each token (imported, refreshed, revoked…): no token values, only the facts.
create table if not exists consent.token_events (
    event_id    bigserial primary key,
    employee_id text not null,
    network     text not null,
    event       text not null,
    detail      text,
    at          timestamptz not null default clock_timestamp()
);

revoke all on all tables in schema consent from public;
revoke all on all sequences in schema consent from public;
"""
_SCHEMA_LOCK_KEY = 0x636F6E73  # "cons"


class TokenKeyError(RuntimeError):
    """No key, a malformed key, or stored tokens no given key decrypts."""


class Secret:
    """A credential in memory: never shown by repr/str/format; `reveal()` where a request needs it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


class TokenCipher:
    """Fernet encryption with key rotation: `keys` newest first (comma-separated in the environment)."""

    def __init__(self, keys: Sequence[str] | str) -> None:
        if isinstance(keys, str):
            keys = [k.strip() for k in keys.split(",") if k.strip()]
        if not keys:
            raise TokenKeyError(
                "no token encryption key: set SHAREWHY_TOKEN_KEYS (or the Airflow connection sharewhy_token_keys) "
                "to one or more Fernet keys, newest first (`sharewhy tokens new-key` makes one)"
            )
        try:
            self._fernets = [Fernet(key.encode()) for key in keys]
        except (ValueError, TypeError):
            raise TokenKeyError(
                "a token encryption key is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
        self._multi = MultiFernet(self._fernets)

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, secret: Secret | None) -> bytes | None:
        return None if secret is None else self._multi.encrypt(secret.reveal().encode())

    def decrypt(self, data: bytes | memoryview | None) -> Secret | None:
        if data is None:
            return None
        try:
            return Secret(self._multi.decrypt(bytes(data)).decode())
        except InvalidToken:
            raise TokenKeyError(
                "a stored token cannot be decrypted with the keys given: was a key dropped before `sharewhy tokens "
                "rotate-key` re-encrypted the store under the newest one?"
            ) from None

    def rotate(self, data: bytes | memoryview | None) -> bytes | None:
        return None if data is None else self._multi.rotate(bytes(data))


@dataclass
class MemberToken:
    employee_id: str
    network: str
    access_token: Secret = field(repr=False)
    access_expires_at: datetime
    refresh_token: Secret | None = field(default=None, repr=False)
    refresh_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    member_id: str | None = None
    status: str = "valid"
    status_reason: str | None = None
    last_refreshed_at: datetime | None = None

    @property
    def usable(self) -> bool:
        return self.status in ("valid", "expiring")

    def renewable_until(self) -> datetime:
        """When the member must consent again: the refresh token's end, or the access token's if there is none."""
        if self.refresh_token is not None and self.refresh_expires_at is not None:
            return self.refresh_expires_at
        if self.refresh_token is not None:
            return datetime.max.replace(tzinfo=UTC)
        return self.access_expires_at

    def lifecycle_status(self, now: datetime) -> str:
        """`valid` or `expiring` by the dates alone (revoked / needs_consent are what the vendor said)."""
        if self.renewable_until() <= now:
            return "needs_consent"
        return "expiring" if self.renewable_until() - now <= EXPIRING_WITHIN else "valid"

    def needs_refresh(self, now: datetime) -> bool:
        return self.access_expires_at - now <= REFRESH_MARGIN[self.network]


def refresh_statuses(conn: psycopg.Connection, now: datetime) -> None:
    """The lifecycle statuses by the stored dates alone (no key needed: no token is read)."""
    conn.execute(
        "update consent.member_tokens set status = case"
        " when coalesce(refresh_expires_at, case when refresh_token is null then access_expires_at end,"
        "               'infinity') <= %(now)s then 'needs_consent'"
        " when coalesce(refresh_expires_at, case when refresh_token is null then access_expires_at end,"
        "               'infinity') <= %(now)s + %(within)s then 'expiring'"
        " else 'valid' end, updated_at = clock_timestamp()"
        " where status in ('valid', 'expiring')",
        {"now": now, "within": EXPIRING_WITHIN},
    )


def apply_schema(conn: psycopg.Connection) -> None:
    """Create schema `consent` if missing. Once it exists nothing runs (no DDL lock taken beside concurrent loads)."""
    present = conn.execute(
        "select to_regclass('consent.member_tokens') is not null and to_regclass('consent.token_events') is not null"
    ).fetchone() == (True,)
    if present:
        return
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
        conn.execute(SCHEMA_SQL)


class TokenStore:
    """Reads and writes `consent.member_tokens` (one short transaction per call, committed at once: a refreshed or
    revoked token is recorded whatever the night's load does next)."""

    def __init__(self, warehouse_url: str, cipher: TokenCipher) -> None:
        self.warehouse_url, self.cipher = warehouse_url, cipher
        with self._connect() as conn:
            apply_schema(conn)

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.warehouse_url, autocommit=True)

    # --- writing -----------------------------------------------------------------------------------------------

    def save(self, tokens: Iterable[MemberToken], granted_via: str, now: datetime | None = None) -> int:
        """Insert or replace tokens (a new grant replaces the old one and clears a revoked status)."""
        now = now or datetime.now(UTC)
        count = 0
        with self._connect() as conn, conn.transaction():
            for token in tokens:
                status = token.lifecycle_status(now) if token.status in ("valid", "expiring") else token.status
                conn.execute(_UPSERT, self._row(token, status, granted_via))
                conn.execute(_EVENT, (token.employee_id, token.network, "granted", granted_via))
                count += 1
        return count

    def _row(self, token: MemberToken, status: str, granted_via: str) -> dict[str, Any]:
        return {
            "employee_id": token.employee_id,
            "network": token.network,
            "member_id": token.member_id,
            "access_token": self.cipher.encrypt(token.access_token),
            "refresh_token": self.cipher.encrypt(token.refresh_token),
            "scopes": list(token.scopes),
            "access_expires_at": token.access_expires_at,
            "refresh_expires_at": token.refresh_expires_at,
            "last_refreshed_at": token.last_refreshed_at,
            "status": status,
            "status_reason": token.status_reason,
            "granted_via": granted_via,
        }

    def mark(self, employee_id: str, network: str, status: str, reason: str) -> None:
        """Record what the vendor said of a member's token (`revoked`, `needs_consent`)."""
        if status not in STATUSES:
            raise ValueError(f"unknown token status {status!r}")
        with self._connect() as conn, conn.transaction():
            conn.execute(
                "update consent.member_tokens set status = %s, status_reason = %s, updated_at = clock_timestamp()"
                " where employee_id = %s and network = %s",
                (status, reason, employee_id, network),
            )
            conn.execute(_EVENT, (employee_id, network, status, reason))
        log.warning("%s token of employee %s is now %s: %s", network, employee_id, status, reason)

    def refresh_statuses(self, now: datetime | None = None) -> None:
        """Set `valid` / `expiring` / `needs_consent` by the stored dates (tokens the vendor refused stay so)."""
        with self._connect() as conn:
            refresh_statuses(conn, now or datetime.now(UTC))

    def rotate_keys(self) -> int:
        """Re-encrypt every stored token under the newest key (run after putting a new key first)."""
        with self._connect() as conn, conn.transaction():
            rows = conn.execute(
                "select employee_id, network, access_token, refresh_token from consent.member_tokens for update"
            ).fetchall()
            for employee_id, network, access, refresh in rows:
                conn.execute(
                    "update consent.member_tokens set access_token = %s, refresh_token = %s"
                    " where employee_id = %s and network = %s",
                    (self.cipher.rotate(access), self.cipher.rotate(refresh), employee_id, network),
                )
        return len(rows)

    # --- reading -----------------------------------------------------------------------------------------------

    def tokens(self, network: str, employee_ids: Iterable[str] | None = None) -> dict[str, MemberToken]:
        """employee id → the member's token on `network` (any status), decrypted."""
        query = f"select {_COLUMNS} from consent.member_tokens where network = %s"
        params: list[Any] = [network]
        if employee_ids is not None:
            query += " and employee_id = any(%s)"
            params.append(list(employee_ids))
        with self._connect() as conn:
            return {row[0]: self._token(row) for row in conn.execute(query, params)}

    def _token(self, row: Sequence[Any]) -> MemberToken:
        (
            employee_id,
            network,
            member_id,
            access,
            refresh,
            scopes,
            access_expires_at,
            refresh_expires_at,
            last_refreshed_at,
            status,
            reason,
        ) = row
        access_token = self.cipher.decrypt(access)
        if access_token is None:  # the column is `not null`: only a broken row gets here
            raise ValueError(f"the {network} token of {employee_id} has no access token")
        return MemberToken(
            employee_id=employee_id,
            network=network,
            member_id=member_id,
            access_token=access_token,
            refresh_token=self.cipher.decrypt(refresh),
            scopes=tuple(scopes),
            access_expires_at=access_expires_at,
            refresh_expires_at=refresh_expires_at,
            last_refreshed_at=last_refreshed_at,
            status=status,
            status_reason=reason,
        )

    def fresh(self, token: MemberToken, refresh: Any, now: datetime | None = None) -> MemberToken:
        """The member's token ready for use: refreshed first when it expires within the network's margin.

        The refresh runs inside a transaction holding the row's lock: a concurrent load waits and then finds the
        refreshed row instead of spending the same (single-use, on X) refresh token twice; the new access token and
        the rotated refresh token are committed before this returns, so a load failing afterwards keeps them.
        `refresh(refresh_token) -> oauth.Grant` may raise `oauth.GrantRefused` (the member revoked the grant or it
        expired: the token is marked `needs_consent` and returned unusable)."""
        from ingestion.oauth import GrantRefused

        now = now or datetime.now(UTC)
        if not token.needs_refresh(now):
            return token
        with self._connect() as conn, conn.transaction():
            row = conn.execute(
                f"select {_COLUMNS} from consent.member_tokens where employee_id = %s and network = %s for update",
                (token.employee_id, token.network),
            ).fetchone()
            if row is None:
                return token
            current = self._token(row)
            if not current.usable or not current.needs_refresh(now):
                return current  # another load refreshed it (or it was refused) while we waited for the lock
            if current.refresh_token is None:
                if current.access_expires_at > now:
                    return current
                reason = "access token expired and no refresh token was granted: the member must consent again"
                return self._refused(conn, current, "needs_consent", reason)
            try:
                grant = refresh(current.refresh_token)
            except GrantRefused as refused:
                return self._refused(conn, current, "needs_consent", f"refresh refused: {refused}")
            current.access_token = grant.access_token
            current.access_expires_at = now + timedelta(seconds=grant.expires_in)
            if grant.refresh_token is not None:  # X rotates it; LinkedIn hands the same one back, with its TTL
                current.refresh_token = grant.refresh_token
            if grant.refresh_expires_in is not None:
                current.refresh_expires_at = now + timedelta(seconds=grant.refresh_expires_in)
            if grant.scopes:
                current.scopes = grant.scopes
            current.last_refreshed_at = now
            current.status = current.lifecycle_status(now)
            conn.execute(
                "update consent.member_tokens set access_token = %s, refresh_token = %s, access_expires_at = %s,"
                " refresh_expires_at = %s, scopes = %s, last_refreshed_at = %s, status = %s, status_reason = null,"
                " updated_at = clock_timestamp() where employee_id = %s and network = %s",
                (
                    self.cipher.encrypt(current.access_token),
                    self.cipher.encrypt(current.refresh_token),
                    current.access_expires_at,
                    current.refresh_expires_at,
                    list(current.scopes),
                    now,
                    current.status,
                    current.employee_id,
                    current.network,
                ),
            )
            conn.execute(
                _EVENT,
                (
                    current.employee_id,
                    current.network,
                    "refreshed",
                    f"access token valid until {current.access_expires_at.isoformat()}",
                ),
            )
        log.info("%s token of employee %s refreshed", current.network, current.employee_id)
        return current

    def _refused(self, conn: psycopg.Connection, token: MemberToken, status: str, reason: str) -> MemberToken:
        conn.execute(
            "update consent.member_tokens set status = %s, status_reason = %s, updated_at = clock_timestamp()"
            " where employee_id = %s and network = %s",
            (status, reason, token.employee_id, token.network),
        )
        conn.execute(_EVENT, (token.employee_id, token.network, status, reason))
        log.warning("%s token of employee %s is now %s: %s", token.network, token.employee_id, status, reason)
        token.status, token.status_reason = status, reason
        return token

    def report(self, now: datetime | None = None, within: timedelta = EXPIRING_WITHIN) -> list[dict[str, Any]]:
        """Every token that needs a person: revoked, needing consent, or whose member must consent again within
        `within` (refresh token ending, or an access token with none). No token values."""
        now = now or datetime.now(UTC)
        self.refresh_statuses(now)
        with self._connect() as conn:
            rows = conn.execute(
                "select employee_id, network, status, status_reason,"
                " coalesce(refresh_expires_at, case when refresh_token is null then access_expires_at end) as ends"
                " from consent.member_tokens where status <> 'valid' order by network, status, employee_id"
            ).fetchall()
        return [
            {"employee_id": e, "network": n, "status": s, "reason": r, "consent_ends_at": ends}
            for e, n, s, r, ends in rows
        ]

    def status_counts(self) -> dict[tuple[str, str], int]:
        with self._connect() as conn:
            rows = conn.execute("select network, status, count(*) from consent.member_tokens group by 1, 2")
            return {(network, status): count for network, status, count in rows}


_COLUMNS = (
    "employee_id, network, member_id, access_token, refresh_token, scopes, access_expires_at, refresh_expires_at,"
    " last_refreshed_at, status, status_reason"
)
_UPSERT = """
insert into consent.member_tokens (employee_id, network, member_id, access_token, refresh_token, scopes,
    access_expires_at, refresh_expires_at, last_refreshed_at, status, status_reason, granted_via)
values (%(employee_id)s, %(network)s, %(member_id)s, %(access_token)s, %(refresh_token)s, %(scopes)s,
    %(access_expires_at)s, %(refresh_expires_at)s, %(last_refreshed_at)s, %(status)s, %(status_reason)s,
    %(granted_via)s)
on conflict (employee_id, network) do update set member_id = excluded.member_id,
    access_token = excluded.access_token, refresh_token = excluded.refresh_token, scopes = excluded.scopes,
    access_expires_at = excluded.access_expires_at, refresh_expires_at = excluded.refresh_expires_at,
    last_refreshed_at = excluded.last_refreshed_at, status = excluded.status, status_reason = excluded.status_reason,
    granted_via = excluded.granted_via, updated_at = clock_timestamp()
"""
_EVENT = "insert into consent.token_events (employee_id, network, event, detail) values (%s, %s, %s, %s)"


# --- the consent export -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RejectedLine:
    line: int
    reason: str
    record: dict[str, Any]  # the line's non-secret fields only


@dataclass(frozen=True)
class ImportResult:
    imported: int
    rejected: tuple[RejectedLine, ...]
    by_status: dict[str, int]


def parse_export(text: str, name: str = "export") -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) of a consent export: a JSON array (or `{"consents": [...]}`, or JSON lines), or CSV
    with the EXPORT_FIELDS header. For JSON arrays the "line" is the element's position (1-based)."""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
            for number, line in enumerate(text.splitlines(), 1):  # JSON lines
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except json.JSONDecodeError as error:
                        yield number, {"__error__": f"not JSON ({error.msg} at column {error.colno})"}
            return
        if isinstance(data, dict):
            data = data.get("consents")
        if not isinstance(data, list):
            raise ValueError(f'{name}: a JSON consent export is an array of objects (or {{"consents": [...]}})')
        yield from enumerate(data, 1)
        return
    reader = csv.DictReader(io.StringIO(text))
    missing = [f for f in REQUIRED_FIELDS if f not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{name}: the CSV header lacks {', '.join(missing)} (columns: {', '.join(EXPORT_FIELDS)})")
    for record in reader:
        yield reader.line_num, record


def validate(record: Any, now: datetime) -> MemberToken:
    """One export record → a MemberToken, or ValueError saying what is wrong (never quoting a token)."""
    if not isinstance(record, dict):
        raise ValueError("not an object")
    if "__error__" in record:
        raise ValueError(record["__error__"])
    missing = [f for f in REQUIRED_FIELDS if not str(record.get(f) or "").strip()]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    network = str(record["network"]).strip().lower()
    if network not in NETWORKS:
        raise ValueError(f"network {record['network']!r} is not one of {', '.join(NETWORKS)}")
    access = str(record["access_token"]).strip()
    refresh = str(record.get("refresh_token") or "").strip() or None
    for label, value in (("access_token", access), ("refresh_token", refresh)):
        if value is not None and (len(value) < 16 or any(c.isspace() for c in value)):
            raise ValueError(f"{label} does not look like an OAuth token (too short or contains spaces)")
    expires_at = _instant(record["expires_at"], "expires_at")
    refresh_expires_at = (
        _instant(record["refresh_token_expires_at"], "refresh_token_expires_at")
        if str(record.get("refresh_token_expires_at") or "").strip()
        else None
    )
    scopes_value = record.get("scopes") or ""
    scopes = tuple(scopes_value if isinstance(scopes_value, list) else str(scopes_value).replace(",", " ").split())
    lacking = REQUIRED_SCOPES[network] - set(scopes) if scopes else set()
    if lacking:
        raise ValueError(f"scopes lack {', '.join(sorted(lacking))}, which {network} needs for member post metrics")
    token = MemberToken(
        employee_id=str(record["employee_id"]).strip(),
        network=network,
        access_token=Secret(access),
        access_expires_at=expires_at,
        refresh_token=Secret(refresh) if refresh else None,
        refresh_expires_at=refresh_expires_at,
        scopes=scopes,
        member_id=str(record.get("member_id") or "").strip() or None,
    )
    if token.renewable_until() <= now:
        raise ValueError(
            "expired with no way to refresh it (no refresh token, or the refresh token has expired too): the member "
            "must consent again"
        )
    return token


def _instant(value: Any, label: str) -> datetime:
    try:
        instant = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{label} {str(value)[:40]!r} is not an ISO 8601 date-time") from None
    if instant.tzinfo is None:
        raise ValueError(f"{label} {str(value)[:40]!r} has no UTC offset")
    return instant


def public_fields(record: Any) -> dict[str, Any]:
    """What of a record may be kept or shown: everything but the tokens (their presence only)."""
    if not isinstance(record, dict):
        return {"record": type(record).__name__}
    kept = {k: v for k, v in record.items() if k not in ("access_token", "refresh_token") and not k.startswith("__")}
    for secret in ("access_token", "refresh_token"):
        if secret in record:
            kept[secret] = "<present>" if record.get(secret) else "<empty>"
    return kept


def import_records(
    store: TokenStore, records: Iterable[tuple[int, Any]], granted_via: str, now: datetime | None = None
) -> ImportResult:
    """Validate every record; save the valid ones (one transaction), quarantine the rest with the reason (without
    their tokens). A later line for the same employee × network wins."""
    now = now or datetime.now(UTC)
    valid: dict[tuple[str, str], MemberToken] = {}
    rejected: list[RejectedLine] = []
    for line, record in records:
        try:
            token = validate(record, now)
        except ValueError as error:
            rejected.append(RejectedLine(line, str(error), public_fields(record)))
            continue
        valid[token.employee_id, token.network] = token
    store.save(valid.values(), granted_via, now)
    if rejected:
        _quarantine(store.warehouse_url, granted_via, rejected)
    by_status: dict[str, int] = {}
    for token in valid.values():
        status = token.lifecycle_status(now)
        by_status[status] = by_status.get(status, 0) + 1
    return ImportResult(len(valid), tuple(rejected), by_status)


def import_file(store: TokenStore, path: Path, now: datetime | None = None) -> ImportResult:
    text = Path(path).read_text(encoding="utf-8-sig")
    return import_records(store, parse_export(text, str(path)), f"import:{Path(path).name}", now)


def _quarantine(warehouse_url: str, granted_via: str, rejected: Sequence[RejectedLine]) -> None:
    import uuid

    from ingestion.loader import apply_raw_schema

    load_id = uuid.uuid4()
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        apply_raw_schema(conn)
        with conn.transaction():
            for item in rejected:
                record = json.dumps({"line": item.line, "source": granted_via, **item.record}, default=str)
                conn.execute(
                    "insert into raw._quarantine (load_id, source, entity, reason, record)"
                    " values (%s, 'consent', 'member_tokens', %s, %s)"
                    " on conflict do nothing",  # the same line of the same export, imported again
                    (load_id, f"line {item.line}: {item.reason}", record),
                )


# --- the night's token statuses (no tokens): what consent coverage is computed from -------------------------------


class TokenStatusExtraction:
    """Every member token of a network as the night leaves it: employee, status, when the consent ends; landed in
    `raw.consent__member_token_status` (no token value, no key needed).

    A night's snapshot is taken once: a rerun of the night (a cleared DAG run, the demo run twice) finds it landed
    and lands nothing, since the store has moved on since (a token refreshed has a new expiry) and a later picture
    is not that night's: comparing it with the first would only fill raw._quarantine with conflicts nobody can act
    on. The rerun's state names the load that took the snapshot."""

    def __init__(self, warehouse_url: str, network: str, logical_date: Any) -> None:
        self._url, self._network, self._logical_date = warehouse_url, network, logical_date
        self._taken_by: str | None = None

    api_calls = 0

    def records(self) -> Iterator[Any]:
        from ingestion.records import Row

        now = datetime.now(UTC)
        with psycopg.connect(self._url, autocommit=True) as conn:
            taken = conn.execute(
                "select _load_id from raw.consent__member_token_status where network = %s and _logical_date = %s"
                " limit 1",
                (self._network, self._logical_date),
            ).fetchone()
            if taken is not None:
                self._taken_by = str(taken[0])
                return
            apply_schema(conn)
            refresh_statuses(conn, now)
            rows = conn.execute(
                "select employee_id, status, status_reason, access_expires_at, refresh_expires_at, scopes"
                " from consent.member_tokens where network = %s order by employee_id",
                (self._network,),
            ).fetchall()
        for employee_id, status, reason, access_expires_at, refresh_expires_at, scopes in rows:
            payload = {
                "employee_id": employee_id,
                "network": self._network,
                "status": status,
                "status_reason": reason,
                "access_expires_at": access_expires_at.isoformat(),
                "refresh_expires_at": refresh_expires_at.isoformat() if refresh_expires_at else None,
                "scopes": list(scopes),
            }
            yield Row(
                (employee_id, self._network, status), payload, f"consent.member_tokens?network={self._network}", now
            )

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"logical_date": self._logical_date.isoformat()}
        if self._taken_by is not None:
            state["snapshot_taken_by_load"] = self._taken_by
        return state
