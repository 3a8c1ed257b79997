"""Member-token reads at a reference-size night: LinkedIn member post analytics for every new share, each read with
its author's own token, members concurrently, against the simulator answering after a vendor-like latency.

    .venv/bin/python -m bench.consent --profile quick     # 300 employees, 600 new shares (≈ 20 s)
    .venv/bin/python -m bench.consent --profile full      # the reference night: 10,000 employees, 20,000 new shares

The simulator (bench/serve.py: the project's `LinkedInApi`, member scope enforced, over the bench tenant) runs in a
process of its own with `--latency` seconds added to every answer; the tenant's members' tokens are imported into
the warehouse's encrypted token store (set-up, not timed); then `ingestion.run.land_linkedin_post_analytics` lands
the night (timed: token reads and refreshes, the concurrent calls, the COPY). Printed: wall time, calls, calls/s, and
calls/s against the concurrency bound workers ÷ latency (what a perfect client would reach), per worker count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import date

from bench import common
from bench.tenant import Tenant, TenantSpec, tenant_consent

TOKEN = "bench-consent-simulator-token"
PROFILES = {
    "quick": {"employees": 300, "night_shares": 600, "workers": [32]},
    "full": {"employees": 10_000, "night_shares": 20_000, "workers": [32, 64]},
}
NIGHT = date(2026, 10, 1)
TARGET_MINUTES = 30
TARGET_RATIO = 0.8


def serve(spec: TenantSpec, night: date, latency: float):
    fields = asdict(spec) | {"first_night": spec.first_night.isoformat()}
    env = {**os.environ, "SHAREWHY_SIMULATOR_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.serve", json.dumps(fields), night.isoformat(), str(latency)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if not line:
        raise RuntimeError("the bench simulator did not start")
    return process, json.loads(line)


def run(profile: str, latency: float, workers: list[int] | None = None, reps: int = 1) -> list[dict]:
    from ingestion.http import ApiConfig
    from ingestion.members import member_access
    from ingestion.run import land_advocacy_shares, land_linkedin_post_analytics
    from ingestion.tokens import import_records
    from sharewhy import consent

    size = PROFILES[profile]
    spec = TenantSpec(
        employees=size["employees"],
        history_shares=1,
        history_days=1,
        night_shares=size["night_shares"],
        first_night=NIGHT,
    )
    tenant = Tenant(spec)
    keys = consent.local_token_keys()
    results = []
    process, apis = serve(spec, NIGHT, latency)
    try:
        for count in workers or size["workers"]:
            for rep in range(reps):
                with common.scratch_database(f"consent_{count}_{rep}") as url:
                    drop = _drop_dir(url)
                    tenant.write_shares_file(drop, NIGHT)
                    land_advocacy_shares(url, NIGHT, drop)
                    access = member_access(url, "linkedin", keys=keys, workers=count)
                    imported = import_records(access.store, enumerate(tenant_consent(spec, TOKEN).export(), 1), "bench")
                    started = time.perf_counter()
                    report = land_linkedin_post_analytics(
                        url, NIGHT, ApiConfig(apis["linkedin"], TOKEN), members=access
                    )
                    wall = time.perf_counter() - started
                bound = count / latency if latency else float("inf")
                results.append(
                    {
                        "employees": spec.employees,
                        "shares": len(tenant.shares_on(NIGHT)),
                        "tokens": imported.imported,
                        "workers": count,
                        "latency": latency,
                        "wall_s": wall,
                        "calls": report.api_calls,
                        "rows": report.rows_inserted,
                        "quarantined": report.rows_quarantined,
                        "calls_per_s": report.api_calls / wall,
                        "bound": bound,
                        "ratio": (report.api_calls / wall) / bound if latency else float("nan"),
                    }
                )
    finally:
        process.terminate()
        process.wait(timeout=10)
    return results


def _drop_dir(url: str):
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="sharewhy-bench-consent-"))


def print_results(results: list[dict]) -> None:
    print(
        "\n| employees | new shares | workers | latency | wall | API calls | calls/s | bound workers÷latency | "
        "ratio | rows landed | quarantined |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        verdict = "met" if r["wall_s"] < TARGET_MINUTES * 60 and r["ratio"] >= TARGET_RATIO else "MISSED"
        print(
            f"| {r['employees']:,} | {r['shares']:,} | {r['workers']} | {r['latency'] * 1000:.0f} ms | "
            f"{r['wall_s']:.1f} s ({r['wall_s'] / 60:.1f} min) | {r['calls']:,} | {r['calls_per_s']:.1f} | "
            f"{r['bound']:.1f} | {r['ratio']:.2f} ({verdict}: < {TARGET_MINUTES} min and ≥ {TARGET_RATIO}) | "
            f"{r['rows']:,} | {r['quarantined']:,} |"
        )
    print(f"\n{common.machine_line()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.consent", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--latency", type=float, default=0.150, help="seconds every simulated answer waits")
    parser.add_argument("--workers", type=int, action="append", help="concurrent members (repeatable)")
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args(argv)
    print_results(run(args.profile, args.latency, args.workers, args.reps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
