"""A small client of Airflow 3's REST API (`/api/v2`), for what sharewhy asks of a running Airflow: post an asset
event (the webhook receiver), trigger runs, run backfills, pause and unpause DAGs (the local stack and its tests).

Authentication: a JWT from the auth manager's `POST /auth/token` (username + password; with SimpleAuthManager the
password is the generated one Airflow keeps in its passwords file). The token is fetched on first use and again
once when the API answers 401 (expired). Credentials are passed in, never read from argv or written anywhere.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

import requests

#: A DAG run in one of these states is over.
FINISHED_STATES = {"success", "failed"}


def _end_of(night: date) -> datetime:
    return datetime.combine(night, clock(23, 59, 59), UTC)


class AirflowApiError(RuntimeError):
    def __init__(self, status: int, message: str):
        super().__init__(f"Airflow API answered {status}: {message}")
        self.status = status


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str, *, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self._credentials = {"username": username, "password": password}
        self._timeout = timeout
        self._session = requests.Session()
        self._token: str | None = None
        self._asset_ids: dict[str, int] = {}

    # ---- transport --------------------------------------------------------------------------------------------

    def _authenticate(self) -> None:
        response = self._session.post(f"{self.base_url}/auth/token", json=self._credentials, timeout=self._timeout)
        if response.status_code != 201:
            raise AirflowApiError(response.status_code, f"login as {self._credentials['username']!r} refused")
        self._token = response.json()["access_token"]

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """`method path` under /api/v2; the decoded JSON answer, or AirflowApiError."""
        for attempt in (1, 2):
            if self._token is None:
                self._authenticate()
            response = self._session.request(
                method,
                f"{self.base_url}/api/v2{path}",
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self._timeout,
                **kwargs,
            )
            if response.status_code == 401 and attempt == 1:
                self._token = None  # expired: log in again, once
                continue
            break
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise AirflowApiError(response.status_code, str(detail)[:500])
        return response.json() if response.content else None

    def healthy(self) -> bool:
        """Whether the api-server answers and reports its metadatabase and scheduler healthy (no login needed)."""
        try:
            response = self._session.get(f"{self.base_url}/api/v2/monitor/health", timeout=self._timeout)
            body = response.json()
        except (requests.RequestException, ValueError):
            return False
        return response.ok and body.get("metadatabase", {}).get("status") == "healthy"

    # ---- assets -----------------------------------------------------------------------------------------------

    def asset_id(self, name: str) -> int:
        """The id of the asset called `name` (it exists once a DAG using it has been parsed)."""
        if name not in self._asset_ids:
            found = self.request("GET", "/assets", params={"name_pattern": name, "limit": 100})["assets"]
            matching = [a["id"] for a in found if a["name"] == name]
            if not matching:
                raise AirflowApiError(404, f"no asset named {name!r}: has the DAG using it been parsed yet?")
            self._asset_ids[name] = matching[0]
        return self._asset_ids[name]

    def create_asset_event(self, asset_name: str, extra: dict[str, Any]) -> dict[str, Any]:
        """Record an event of the asset: DAGs scheduled on it get queued, exactly as if a task had produced it."""
        return self.request("POST", "/assets/events", json={"asset_id": self.asset_id(asset_name), "extra": extra})

    def asset_events(self, asset_name: str) -> list[dict[str, Any]]:
        params = {"asset_id": self.asset_id(asset_name), "limit": 100, "order_by": "timestamp"}
        return self.request("GET", "/assets/events", params=params)["asset_events"]

    # ---- pools --------------------------------------------------------------------------------------------------

    def set_pools(self, pools: dict[str, dict[str, Any]]) -> None:
        """Create or update pools, given as `airflow pools import` reads them ({name: {slots, description, …}})."""
        for name, pool in pools.items():
            body = {
                "name": name,
                "slots": pool["slots"],
                "description": pool.get("description", ""),
                "include_deferred": pool.get("include_deferred", False),
            }
            try:
                self.request("POST", "/pools", json=body)
            except AirflowApiError as error:
                if error.status != 409:
                    raise
                self.request("PATCH", f"/pools/{name}", json={k: v for k, v in body.items() if k != "name"})

    # ---- DAGs and runs ----------------------------------------------------------------------------------------

    def dags(self, tags: Iterable[str] = ()) -> list[dict[str, Any]]:
        params = [("limit", 100), *(("tags", t) for t in tags)]
        return self.request("GET", "/dags", params=params)["dags"]

    def clear_queued_events(self, dag_id: str) -> None:
        """Forget the asset events queued towards an asset-scheduled DAG (a partial condition)."""
        try:
            self.request("DELETE", f"/dags/{dag_id}/assets/queuedEvents")
        except AirflowApiError as error:
            if error.status != 404:  # 404: nothing was queued
                raise

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def trigger(self, dag_id: str, night: date | None = None, conf: dict | None = None) -> dict[str, Any]:
        """A manual run; with `night`, its logical date and data interval are that night, [00:00, +1 day) UTC."""
        body: dict[str, Any] = {"logical_date": None, "conf": conf or {}}
        if night is not None:
            start = datetime.combine(night, clock(0), UTC)
            body.update(
                logical_date=start.isoformat(),
                data_interval_start=start.isoformat(),
                data_interval_end=(start + timedelta(days=1)).isoformat(),
            )
        return self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)

    def clear_run(self, dag_id: str, run_id: str) -> None:
        """Run an existing DAG run again: every task is cleared and the run queued."""
        self.request("POST", f"/dags/{dag_id}/dagRuns/{run_id}/clear", json={"dry_run": False, "only_failed": False})

    def runs(self, dag_id: str, **params: Any) -> list[dict[str, Any]]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100, **params})["dag_runs"]

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def wait_for_runs(self, runs: Iterable[tuple[str, str]], timeout: float, poll: float = 2.0) -> dict:
        """Wait until every (dag_id, run_id) has finished; {(dag_id, run_id): state}. TimeoutError names the rest."""
        pending = set(runs)
        states: dict[tuple[str, str], str] = {}
        deadline = time.monotonic() + timeout
        while pending:
            for key in sorted(pending):
                state = self.run(*key)["state"]
                if state in FINISHED_STATES:
                    states[key] = state
                    pending.discard(key)
            if not pending:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"runs not finished after {timeout:.0f} s: {sorted(pending)}")
            time.sleep(poll)
        return states

    # ---- backfills --------------------------------------------------------------------------------------------

    def create_backfill(
        self,
        dag_id: str,
        first_night: date,
        last_night: date,
        *,
        reprocess: str = "completed",
        max_active_runs: int = 1,
        wait_for_previous: float = 60.0,
    ) -> dict[str, Any]:
        """Runs of `dag_id` for every scheduled interval starting in the nights [first_night, last_night]; with
        `completed`, nights that already ran are cleared and run again, which is safe because every load is
        idempotent. Airflow allows one unfinished backfill per DAG and marks a finished one complete only every
        30 s, so a 409 is retried for up to `wait_for_previous` seconds."""
        body = {
            "dag_id": dag_id,
            "from_date": datetime.combine(first_night, clock(0), UTC).isoformat(),
            "to_date": _end_of(last_night).isoformat(),  # a night's run may start after 00:00 (cron 30 0 * * *)
            "reprocess_behavior": reprocess,
            "max_active_runs": max_active_runs,
        }
        deadline = time.monotonic() + wait_for_previous
        while True:
            try:
                return self.request("POST", "/backfills", json=body)
            except AirflowApiError as error:
                if error.status != 409 or time.monotonic() > deadline:
                    raise
                time.sleep(2.0)

    def backfill(self, backfill_id: int) -> dict[str, Any]:
        return self.request("GET", f"/backfills/{backfill_id}")

    def runs_of_nights(self, dag_ids: Iterable[str], first_night: date, last_night: date) -> dict[str, dict]:
        """{dag_id: {night: run}} for the nights [first_night, last_night], in one request (`/dags/~/dagRuns`)."""
        wanted = set(dag_ids)
        start = datetime.combine(first_night, clock(0), UTC)
        params = {
            "logical_date_gte": start.isoformat(),
            "logical_date_lte": _end_of(last_night).isoformat(),
            "limit": 1000,
        }
        found: dict[str, dict] = {dag_id: {} for dag_id in wanted}
        for run in self.request("GET", "/dags/~/dagRuns", params=params)["dag_runs"]:
            if run["dag_id"] in wanted:
                night = datetime.fromisoformat(run["logical_date"]).astimezone(UTC).date()
                found[run["dag_id"]][night] = run
        return found

    def runs_for_nights(self, dag_id: str, first_night: date, last_night: date) -> dict[date, dict[str, Any]]:
        """The run of each night in [first_night, last_night] that has one (a logical date has one run at most)."""
        start = datetime.combine(first_night, clock(0), UTC)
        params = {"logical_date_gte": start.isoformat(), "logical_date_lte": _end_of(last_night).isoformat()}
        runs = self.runs(dag_id, **params)
        return {datetime.fromisoformat(r["logical_date"]).astimezone(UTC).date(): r for r in runs}

    def wait_for_backfills(self, backfill_ids: Iterable[int], timeout: float, poll: float = 1.0) -> None:
        pending = set(backfill_ids)
        deadline = time.monotonic() + timeout
        while pending:
            pending = {b for b in pending if self.backfill(b)["completed_at"] is None}
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"backfills not completed after {timeout:.0f} s: {sorted(pending)}")
            time.sleep(poll)
