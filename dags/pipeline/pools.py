"""One Airflow pool per source API, named like the API's connection: its slots cap how many tasks call that API at
once, so the nightly load, a backfill and a retried or event-triggered load never spend a rate limit together.

The pools themselves live in `pools.json` beside this file, in the format `airflow pools import` reads; `make
airflow`, the tests and docker-compose's `airflow-init` import it. Reading it here is a local file read, no database.
"""

from __future__ import annotations

import json
from pathlib import Path

POOLS_FILE = Path(__file__).with_name("pools.json")
POOLS: dict[str, dict] = json.loads(POOLS_FILE.read_text())


def api_pool(conn_id: str) -> str:
    """The pool of the API behind connection `conn_id` (a DAG file naming an unknown API fails to import)."""
    if conn_id not in POOLS:
        raise KeyError(f"no pool for API connection {conn_id!r}: add it to {POOLS_FILE.name}")
    return conn_id
