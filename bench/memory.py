"""Memory: peak resident memory of the ingestion process at 1× and 10× source size — must stay flat, because
records stream page by page (file line by line) into COPY and nothing holds the whole source.

Each measurement is a fresh process (bench/memprobe.py) landing one advocacy export of N or 10 N rows into an
empty scratch database; rounds alternate 1×, 10×, 10×, 1×, …
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.common import REPO_ROOT, Report, Samples, alternate, ratios, scratch_database
from bench.tenant import Tenant, TenantSpec

FACTOR = 10


def run(report: Report, spec: TenantSpec, reps: int) -> None:
    rows = spec.night_shares
    sizes = {"1×": rows, f"{FACTOR}×": rows * FACTOR}
    night = spec.first_night
    peaks: dict[str, Samples] = {}
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        drops = {}
        for label, n in sizes.items():
            tenant = Tenant(replace(spec, history_shares=0, history_days=1, night_shares=n))
            drops[label] = Path(tmp) / label
            tenant.write_shares_file(drops[label], night)
        seconds: dict[str, Samples] = {label: Samples() for label in sizes}
        above: dict[str, Samples] = {label: Samples() for label in sizes}

        def one(label: str, rep: int) -> float:
            with scratch_database("memory") as url:
                done = subprocess.run(
                    [sys.executable, "-m", "bench.memprobe", url, str(drops[label]), night.isoformat()],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=REPO_ROOT,
                )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            assert result["rows"] == sizes[label], result
            seconds[label].add(result["seconds"])
            above[label].add((result["maxrss_kib"] - result["baseline_kib"]) / 1024)
            if not result["peak_reset"]:
                report.note("memory: /proc/self/clear_refs unavailable, so the peaks include the imports")
            return result["maxrss_kib"] / 1024

        peaks = alternate(reps, list(sizes), one)
    big = f"{FACTOR}×"
    for label, n in sizes.items():
        report.add("memory", f"advocacy ingestion process, {n:,} rows ({label}): peak RSS MiB", peaks[label].spread(1))
        report.add(
            "memory", f"  of which above the resident size before the load ({label}), MiB", above[label].spread(1)
        )
    growth = ratios(peaks[big], peaks["1×"])
    report.add("memory", f"peak RSS at {big} ÷ 1× source size", growth.spread(2), "≤ 1.2×", growth.median <= 1.2)
    report.add("memory", f"(time at {big} ÷ 1×, for scale)", ratios(seconds[big], seconds["1×"]).spread(1))
