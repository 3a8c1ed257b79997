"""Loader vs the limit: the project's raw loader against `psql \\copy` of the same rows into the same table, and
against dlt on the same records — same run, alternating rounds.

Variants, each into an emptied raw.advocacy__shares of one scratch database (commit included):
- `psql \\copy`: the rows exactly as the loader lands them (same payload bytes), pre-rendered to a file, COPYed by
  the bundled psql straight into the raw table — the single-stream limit;
- `loader`: `ingestion.loader.land` handed the same rows as `Row`s already in memory — the loader alone (a night's
  usual path: one COPY into the raw table, spooled to disk; quarantine, state and load log; one transaction);
- `loader + source`: `ingestion.run.land_advocacy_shares` from the export file — what a night does (CSV parsing
  and validation by the advocacy source, then the loader);
- `dlt …`: dlt 1.31 (`.venv-bench`) on the same records, already in memory: as Python dicts with its default postgres
  file format (insert_values) and with CSV files loaded by COPY, and as a pyarrow table with CSV/COPY — its fastest
  postgres configuration (see bench/dlt_load.py).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg
import psycopg.conninfo

from bench.common import BENCH_VENV, Report, alternate, clock, psql, ratios, scratch_database
from bench.tenant import Tenant, TenantSpec
from ingestion.loader import apply_raw_schema, land
from ingestion.records import Row
from ingestion.run import land_advocacy_shares
from ingestion.sources import advocacy

#: dlt's variants: (loader file format, items handed to dlt).
DLT_FORMATS = {
    "dlt (dicts, insert_values)": ("insert_values", "dicts"),
    "dlt (dicts, csv)": ("csv", "dicts"),
    "dlt (arrow, csv)": ("csv", "arrow"),
}
VARIANTS = ("psql \\copy", "loader", "loader + source", *DLT_FORMATS)


class RowsInMemory:
    """An extraction over rows already in memory."""

    api_calls = 0

    def __init__(self, rows: list[Row]):
        self._rows = rows

    def records(self):
        return iter(self._rows)

    def state(self):
        return {"bench": True}


def run(report: Report, rows: int, reps: int, seed: int = 7, *, dlt: bool = True) -> None:
    spec = TenantSpec(employees=10_000, history_shares=0, history_days=1, night_shares=rows, seed=seed)
    tenant = Tenant(spec)
    night = spec.first_night
    dlt_python = BENCH_VENV / "bin" / "python"
    variants = [v for v in VARIANTS if v not in DLT_FORMATS or (dlt and dlt_python.exists())]
    if dlt and not dlt_python.exists():
        report.note("dlt not measured: .venv-bench is missing (`make bench` creates it)")
    with tempfile.TemporaryDirectory(prefix="bench-loader-") as tmp, scratch_database("loader") as url:
        work = Path(tmp)
        drop = work / "drop"
        csv_path = tenant.write_shares_file(drop, night)
        copy_path = work / "rows.copy"
        with copy_path.open("w") as out:
            out.writelines(tenant.raw_share_lines([night], str(csv_path)))
        records = list(tenant.shares_on(night).records())
        extracted_at = datetime.now(UTC)
        row_objects = [Row((r["share_id"],), r, str(csv_path), extracted_at) for r in records]
        jsonl = work / "records.jsonl"
        with jsonl.open("wb") as out:
            load_id = str(uuid.uuid4())
            for r in records:
                out.write(
                    orjson.dumps(
                        {
                            "share_id": r["share_id"],
                            "payload": r,
                            "_load_id": load_id,
                            "_extracted_at": extracted_at.isoformat(),
                            "_logical_date": night.isoformat(),
                            "_request": str(csv_path),
                        }
                    )
                    + b"\n"
                )
        with psycopg.connect(url, autocommit=True) as conn:
            apply_raw_schema(conn)
        conninfo = psycopg.conninfo.conninfo_to_dict(url)

        def reset() -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    "truncate raw.advocacy__shares, raw._loads, raw._ingestion_state, raw._quarantine,"
                    " raw._file_manifest, raw._superseded_rows"
                )
                conn.execute("drop schema if exists bench_dlt cascade")
                conn.execute("drop schema if exists bench_dlt_staging cascade")

        def one(variant: str, rep: int) -> float:
            reset()
            if variant == "psql \\copy":
                command = (
                    "\\copy raw.advocacy__shares (share_id, payload, _load_id, _extracted_at, _logical_date, _request)"
                    f" from '{copy_path}'"
                )
                started = clock()
                psql(url, "-c", command)
                elapsed = clock() - started
            elif variant == "loader":
                started = clock()
                result = land(url, advocacy.TARGET, night, lambda state: RowsInMemory(row_objects))
                elapsed = clock() - started
                assert result.rows_inserted == rows, result
            elif variant == "loader + source":
                started = clock()
                result = land_advocacy_shares(url, night, drop)
                elapsed = clock() - started
                assert result.rows_inserted == rows, result
            else:
                done = subprocess.run(
                    [
                        str(dlt_python),
                        str(Path(__file__).with_name("dlt_load.py")),
                        json.dumps(conninfo),
                        str(jsonl),
                        "bench_dlt",
                        *DLT_FORMATS[variant],
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                elapsed = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
            with psycopg.connect(url) as conn:
                table = "bench_dlt.advocacy__shares" if variant in DLT_FORMATS else "raw.advocacy__shares"
                landed = conn.execute(f"select count(*) from {table}").fetchone()[0]
            assert landed == rows, (variant, landed)
            return elapsed

        samples = alternate(reps, variants, one)
        bytes_per_row = copy_path.stat().st_size / rows
    section = "loader"
    limit = samples["psql \\copy"]
    report.add(
        section,
        f"rows per run (raw.advocacy__shares, jsonb payload; {bytes_per_row:.0f} B a row as COPY text)",
        f"{rows:,}",
    )
    for variant in variants:
        rate = type(limit)([rows / s for s in samples[variant].values])
        report.add(section, f"{variant}: rows/s", rate.spread(0))
    throughput = {v: ratios(limit, samples[v]) for v in variants}  # time(psql)/time(v) = throughput(v)/throughput(psql)
    loader = throughput["loader"]
    report.add(section, "loader ÷ psql \\copy throughput", loader.spread(2), "≥ 0.9×", loader.median >= 0.9)
    report.add(section, "loader + source ÷ psql \\copy throughput", throughput["loader + source"].spread(2))
    if "dlt (arrow, csv)" in variants:
        for variant in ("dlt (dicts, insert_values)", "dlt (dicts, csv)"):
            report.add(section, f"loader ÷ {variant} throughput", ratios(samples[variant], samples["loader"]).spread(1))
        fastest = samples["dlt (arrow, csv)"]
        vs_fastest = ratios(fastest, samples["loader"])
        report.add(
            section,
            "loader ÷ dlt (arrow, csv: its fastest) throughput",
            vs_fastest.spread(1),
            "≥ 1.5×",
            vs_fastest.median >= 1.5,
        )
        report.add(
            section,
            "loader + source ÷ dlt (arrow, csv) throughput",
            ratios(fastest, samples["loader + source"]).spread(1),
        )
