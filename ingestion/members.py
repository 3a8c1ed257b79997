"""Reading with each member's own token: the tokens, their refresh, the vendors' per-member verdicts, and the bounded
worker pool that reads different members concurrently.

- `MemberAccess` hands out a member's token ready for use (refreshed first when it expires soon; see
  `TokenStore.fresh`) and records what the vendor said of it: a 401 marks it `revoked`, a 403 `needs_consent`.
  Those marks commit at once, in their own transactions, so they stand whatever the night's load does next.
- `member_pool` runs one job per member on at most `workers` threads: a member's requests go one after another
  (the vendor's per-member limits are per token), different members' go concurrently (the per-app limits are the
  shared `Budget`). Records come back as each member finishes; a job that raises a load-failing error (a sunset API
  version, a changed contract) cancels the jobs not started and fails the load.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from ingestion import oauth
from ingestion.tokens import MemberToken, TokenCipher, TokenStore

log = logging.getLogger(__name__)

KEYS_ENV = "SHAREWHY_TOKEN_KEYS"
#: Concurrent members by default: the bound is workers ÷ the vendor's latency (32 ÷ 150 ms ≈ 213 calls/s).
DEFAULT_WORKERS = 32

T = TypeVar("T")
R = TypeVar("R")


class Budget:
    """A call budget shared by threads (a vendor's daily quota per app); None = no known limit."""

    def __init__(self, limit: int | None) -> None:
        self.limit, self.spent = limit, 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.limit is not None and self.spent >= self.limit:
                return False
            self.spent += 1
            return True


@dataclass
class MemberAccess:
    """Member tokens of one network and how to renew them.

    `oauth_app` None: tokens are used as stored, never refreshed (a token past its end then needs consent).
    `app_daily_quota` / `member_daily_quota`: the vendor's daily call quotas (LinkedIn: per app and per member, reset
    at midnight UTC; the numbers are the app's own, shown in LinkedIn's developer portal); None = not enforced here
    (the vendor's 429 still is, per member)."""

    store: TokenStore
    network: str
    oauth_app: oauth.OAuthApp | None = None
    workers: int = DEFAULT_WORKERS
    app_daily_quota: int | None = None
    member_daily_quota: int | None = None

    def tokens(self, employee_ids: Iterable[str]) -> dict[str, MemberToken]:
        return self.store.tokens(self.network, employee_ids)

    def ready(self, token: MemberToken, *, force: bool = False) -> MemberToken:
        """The token, refreshed first when it expires within the margin (or `force`); unusable when the refresh is
        refused. Raises oauth.OAuthError when the token endpoint fails otherwise and the token has expired."""
        if self.oauth_app is None:
            if token.access_expires_at <= datetime.now(UTC):
                reason = "access token expired and no OAuth app is configured to refresh it"
                self.store.mark(token.employee_id, self.network, "needs_consent", reason)
                token.status, token.status_reason = "needs_consent", reason
            return token
        app = self.oauth_app
        try:
            now = datetime.now(UTC)
            if force:  # the vendor said expired before our clock did: refresh whatever the stored expiry says
                token.access_expires_at = now
            return self.store.fresh(token, lambda refresh_token: oauth.refresh(app, refresh_token), now)
        except oauth.OAuthError:  # not a refusal (fresh() marks those needs_consent): the endpoint failed
            if token.access_expires_at > datetime.now(UTC):
                log.warning(
                    "%s: refreshing employee %s's token failed; using it while it lasts",
                    self.network,
                    token.employee_id,
                )
                return token
            raise

    def refused(self, token: MemberToken, status: int | None, reason: str) -> str:
        """Record the vendor's refusal of a member token (401 → revoked, 403 → needs_consent); the new status."""
        new_status = "revoked" if status == 401 else "needs_consent"
        self.store.mark(token.employee_id, self.network, new_status, reason)
        token.status, token.status_reason = new_status, reason
        return new_status


def member_access(
    warehouse_url: str,
    network: str,
    *,
    keys: str | None = None,
    oauth_app: oauth.OAuthApp | None = None,
    workers: int | None = None,
    app_daily_quota: int | None = None,
    member_daily_quota: int | None = None,
) -> MemberAccess:
    """A MemberAccess over the warehouse's token store; the keys default to the environment (SHAREWHY_TOKEN_KEYS)."""
    cipher = TokenCipher(keys if keys is not None else os.environ.get(KEYS_ENV, ""))
    return MemberAccess(
        TokenStore(warehouse_url, cipher),
        network,
        oauth_app,
        workers or DEFAULT_WORKERS,
        app_daily_quota,
        member_daily_quota,
    )


def member_pool(jobs: Mapping[str, T], run: Callable[[str, T], R], workers: int) -> Iterator[R]:
    """`run(member, job)` for every member on at most `workers` threads; yields each member's results as it ends.
    Only `workers` × 2 jobs are queued at a time, so a 10,000-member night holds little in flight."""
    members = iter(jobs.items())
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="member") as pool:
        pending: set[Future[R]] = set()

        def submit_more() -> None:
            while len(pending) < workers * 2:
                item = next(members, None)
                if item is None:
                    return
                pending.add(pool.submit(run, *item))

        submit_more()
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    pending.discard(future)
                    yield future.result()
                submit_more()
        except BaseException:
            for future in pending:
                future.cancel()
            raise
