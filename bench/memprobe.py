"""One ingestion process, measured: `python -m bench.memprobe <conninfo> <drop_dir> <night>` lands the advocacy
export of the night with the project's own entry point and prints `{"maxrss_kib": …, "seconds": …, "rows": …}`.

`python -m bench.memprobe --linkedin-due <conninfo> <night>` instead only picks the night's LinkedIn posts the way
`ingestion.run.land_linkedin_post_analytics` does (the 90-day window, the last fetch of every post, the refresh
schedule) — read-only, so it can run against a warehouse as its first build left it.

Run as a fresh process per measurement. Importing the ingestion package alone takes ~150 MiB (requests, psycopg,
numpy through the simulator's constants, …) and that import peak would hide the load's own: so after the imports the
peak is reset (`5` into /proc/self/clear_refs, Linux) and `VmHWM` read after the load is the load's peak alone;
`baseline_kib` is the resident size just before the load.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import date
from pathlib import Path

from ingestion.run import land_advocacy_shares


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _linkedin_due(url: str, night: date) -> int:
    from ingestion.raw_queries import last_fetched, shared_posts
    from ingestion.refresh import DEFAULT

    window = shared_posts(url, night, "linkedin")
    fetched = last_fetched(url, "linkedin__member_post_analytics", "post_urn", night, DEFAULT.horizon)
    return len(DEFAULT.select(window, lambda p: p.shared_at, lambda p: p.post_id, night, fetched, "linkedin"))


def main() -> int:
    linkedin = sys.argv[1] == "--linkedin-due"
    if linkedin:
        url, night = sys.argv[2], date.fromisoformat(sys.argv[3])
    else:
        url, drop_dir, night = sys.argv[1], Path(sys.argv[2]), date.fromisoformat(sys.argv[3])
    import ingestion.raw_queries  # noqa: F401  — imported before the peak is reset, like ingestion.run

    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak: from here on VmHWM is the load's
        reset = True
    except OSError:
        reset = False
    baseline = _status_kib("VmRSS")
    started = time.perf_counter()
    rows = _linkedin_due(url, night) if linkedin else land_advocacy_shares(url, night, drop_dir).rows_inserted
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"maxrss_kib": peak, "baseline_kib": baseline, "peak_reset": reset, "seconds": seconds, "rows": rows}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
