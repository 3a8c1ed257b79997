"""Where the loader's time goes, statement by statement (`python -m bench.loader_profile [rows] [reps]`).

Replays the loader's transaction on the same rows with a clock around each step, next to two references:
- `psycopg COPY → raw`: the same client path (psycopg `write_row`) straight into raw.advocacy__shares — what the
  client side costs against psql;
- the loader's steps: COPY into its temp table `_incoming`, `insert … select … on conflict do nothing` into the raw
  table (with EXPLAIN ANALYZE once, to show the plan), the quarantine scan.
"""

from __future__ import annotations

import statistics
import sys
import uuid
from datetime import UTC, datetime

import psycopg

from bench.common import clock, scratch_database
from bench.tenant import Tenant, TenantSpec
from ingestion.loader import METADATA_COLUMNS, apply_raw_schema
from ingestion.records import as_json_text

COLUMNS = ", ".join(("share_id", *METADATA_COLUMNS))


def main(rows: int = 200_000, reps: int = 3) -> None:
    tenant = Tenant(TenantSpec(history_shares=0, history_days=1, night_shares=rows))
    night = tenant.spec.first_night
    records = list(tenant.shares_on(night).records())
    now = datetime.now(UTC)
    timings: dict[str, list[float]] = {}
    plan = ""
    with scratch_database("profile") as url:
        with psycopg.connect(url, autocommit=True) as conn:
            apply_raw_schema(conn)
        for rep in range(reps):
            load_id = uuid.uuid4()
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("truncate raw.advocacy__shares")
                with conn.transaction():
                    started = clock()
                    with conn.cursor() as cur, cur.copy(f"copy raw.advocacy__shares ({COLUMNS}) from stdin") as copy:
                        for r in records:
                            copy.write_row((r["share_id"], as_json_text(r), load_id, now, night, "x"))
                    timings.setdefault("psycopg COPY → raw (write_row, commit excluded)", []).append(clock() - started)
                conn.execute("truncate raw.advocacy__shares")
                with conn.transaction():
                    conn.execute(
                        "create temp table _incoming on commit drop as select null::text as quarantine_reason,"
                        f" null::text as quarantine_record, {COLUMNS} from raw.advocacy__shares with no data"
                    )
                    started = clock()
                    with conn.cursor() as cur, cur.copy(
                        f"copy _incoming (quarantine_reason, quarantine_record, {COLUMNS}) from stdin"
                    ) as copy:
                        for r in records:
                            copy.write_row((None, None, r["share_id"], as_json_text(r), load_id, now, night, "x"))
                    timings.setdefault("loader step 1: COPY → temp _incoming", []).append(clock() - started)
                    insert = (
                        f"insert into raw.advocacy__shares ({COLUMNS}) select {COLUMNS} from _incoming"
                        " where quarantine_reason is null on conflict do nothing"
                    )
                    started = clock()
                    if rep == 0:
                        plan = "\n".join(
                            r[0] for r in conn.execute("explain (analyze, buffers, wal) " + insert).fetchall()
                        )
                    else:
                        conn.execute(insert)
                    timings.setdefault("loader step 2: insert … on conflict → raw", []).append(clock() - started)
                    started = clock()
                    conn.execute("select count(*) from _incoming where quarantine_reason is not null").fetchone()
                    timings.setdefault("loader step 3: quarantine scan", []).append(clock() - started)
                    # The candidate: a plain insert of the rows not landed yet (the loader's advisory lock already
                    # serialises loads of one entity, so no concurrent insert can race it), without the
                    # speculative insertion of ON CONFLICT.
                    conn.execute("truncate raw.advocacy__shares")
                    started = clock()
                    conn.execute(
                        f"insert into raw.advocacy__shares ({COLUMNS}) select {COLUMNS} from _incoming i"
                        " where quarantine_reason is null and not exists"
                        " (select from raw.advocacy__shares r where r.share_id = i.share_id)"
                    )
                    timings.setdefault("candidate step 2': insert … where not exists → raw", []).append(clock() - started)
                    started = clock()
                    started = clock()
                timings.setdefault("commit", []).append(clock() - started)
    print(f"{rows:,} rows, {reps} rounds: median seconds (rows/s)")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"  {name:<55} {median:7.2f} s  ({rows / median:>9,.0f} rows/s)")
    print("\nEXPLAIN (ANALYZE, BUFFERS, WAL) of step 2, first round:\n" + plan)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
