"""Where the loader's time goes (`python -m bench.loader_profile [rows] [reps]`).

Times, on the same rows into the same emptied raw.advocacy__shares, round after round:
- `psql \\copy`: the limit (bench/loader.py's reference);
- `land()`, every row new: the loader's usual night — one COPY straight into the raw table, spooled to disk;
- `land()`, one row already landed: the COPY fails on the unique key at its end, the spool is replayed into the temp
  table `_incoming`, and `insert … on conflict do nothing` keeps the new rows — what a rerun or an overlapping
  window costs;
- `psycopg write_row, typed metadata`: a bare COPY handing psycopg a uuid, a date and a timestamptz per row instead of
  their text — why the loader renders the load metadata to text once per load.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench.common import clock, psql, scratch_database
from bench.loader import RowsInMemory
from bench.tenant import Tenant, TenantSpec
from ingestion.loader import apply_raw_schema, land
from ingestion.records import METADATA_COLUMNS, Row, as_json_text
from ingestion.sources import advocacy

COLUMNS = ", ".join(("share_id", *METADATA_COLUMNS))


def main(rows: int = 200_000, reps: int = 3) -> None:
    tenant = Tenant(TenantSpec(history_shares=0, history_days=1, night_shares=rows))
    night = tenant.spec.first_night
    records = list(tenant.shares_on(night).records())
    now = datetime.now(UTC)
    row_objects = [Row((r["share_id"],), r, "x", now) for r in records]
    timings: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-loader-profile-") as tmp, scratch_database("profile") as url:
        copy_path = Path(tmp) / "rows.copy"
        with copy_path.open("w") as out:
            out.writelines(tenant.raw_share_lines([night], "x"))
        with psycopg.connect(url, autocommit=True) as conn:
            apply_raw_schema(conn)

        def timed(name: str, step, already_landed: int = 0) -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("truncate raw.advocacy__shares")
            if already_landed:
                land(url, advocacy.TARGET, night, lambda state: RowsInMemory(row_objects[:already_landed]))
            started = clock()
            step()
            timings.setdefault(name, []).append(clock() - started)

        def land_all() -> None:
            land(url, advocacy.TARGET, night, lambda state: RowsInMemory(row_objects))

        def typed_copy() -> None:
            load_id = uuid.uuid4()
            with psycopg.connect(url) as conn, conn.cursor() as cur:
                with cur.copy(f"copy raw.advocacy__shares ({COLUMNS}) from stdin") as copy:
                    for r in records:
                        copy.write_row((r["share_id"], as_json_text(r), load_id, now, night, "x"))

        for _ in range(reps):
            copy_in = f"\\copy raw.advocacy__shares ({COLUMNS}) from '{copy_path}'"
            timed("psql \\copy (the limit)", lambda command=copy_in: psql(url, "-c", command))
            timed("land(), every row new: one COPY into raw", land_all)
            timed("land(), one row known: COPY fails, spool replayed", land_all, already_landed=1)
            timed("psycopg write_row, typed metadata", typed_copy)
    print(f"{rows:,} rows, {reps} rounds: median seconds (rows/s)")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"  {name:<55} {median:7.2f} s  ({rows / median:>9,.0f} rows/s)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
