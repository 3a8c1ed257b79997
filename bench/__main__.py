r"""`python -m bench [--profile quick|full] [sizes…] [--only sections]`: run the benchmarks, print the figures table.

Profiles (every size is a flag that overrides them):
- quick (`make bench`, ≈ 5 minutes on an idle 2-core machine): a small tenant, enough to see every ratio;
- full (`make bench-full`): the reference tenant — 10,000 employees, 1,000,000 historical shares over two years,
  20,000 new shares a night (10× history: ten million shares; hours of set-up on a 2-core machine);
- toy: seconds per section, for trying the machinery (`--only loader,memory`).

Sections: loader (vs psql \copy and dlt), memory (ingestion peak RSS at 1× and 10× source size), night (the split of a
night, LinkedIn API calls, cost growth with history, full refresh), orchestration (Airflow's overhead per DAG run),
celery (a latency-bound night's ingestion through two Celery workers against one; needs Redis on 127.0.0.1:6379),
x (X in the tenant: int_x__tweet_metrics_nightly incremental and full refresh at 1× and G× X history, X API calls).
`--growth 1` runs the night section on the 1× warehouse only (no cost-growth figure).

The table goes to stdout and, as Markdown, to `.sharewhy/bench/latest-<profile>.md` (the README quotes it).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from dataclasses import replace

from bench import common
from bench.tenant import TenantSpec

SECTIONS = ("loader", "memory", "night", "orchestration", "celery", "x")

PROFILES = {
    "quick": dict(
        employees=1_000,
        history_shares=2_000,
        history_days=730,
        night_shares=500,
        loader_rows=100_000,
        memory_rows=10_000,
        reps=3,
        growth=10,
    ),
    "full": dict(
        employees=10_000,
        history_shares=1_000_000,
        history_days=730,
        night_shares=20_000,
        loader_rows=1_000_000,
        memory_rows=20_000,
        reps=3,
        growth=10,
    ),
    "toy": dict(
        employees=60,
        history_shares=600,
        history_days=60,
        night_shares=50,
        loader_rows=500,
        memory_rows=200,
        reps=3,
        growth=3,
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", choices=PROFILES, default="quick")
    parser.add_argument("--employees", type=int)
    parser.add_argument("--history-shares", type=int, help="historical shares at 1× history")
    parser.add_argument("--history-days", type=int, help="days the 1× history spans")
    parser.add_argument("--night-shares", type=int, help="new shares on each benchmarked night")
    parser.add_argument("--growth", type=int, help="history multiple the cost-growth figure compares with 1× (10)")
    parser.add_argument("--loader-rows", type=int, help="rows per run in the loader comparison")
    parser.add_argument("--memory-rows", type=int, help="rows of the 1× source in the memory figure")
    parser.add_argument("--reps", type=int, help="alternating repetitions (at least 3 for a median and a range)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}")
    parser.add_argument(
        "--audit-history",
        action="store_true",
        help="audit the laid history for real (the quick and toy profiles do; the full one marks it audited)",
    )
    parser.add_argument(
        "--full-refresh-from-first-build",
        action="store_true",
        help="take the full-refresh night from the 1× warehouse's first build (as the quick profile does) instead "
        "of a full refresh after every round's night (the full profile's default)",
    )
    parser.add_argument("--no-dlt", action="store_true", help="skip dlt in the loader comparison")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = dict(PROFILES[args.profile])
    for key in sizes:
        value = getattr(args, key, None)
        if value is not None:
            sizes[key] = value
    spec = TenantSpec(
        employees=sizes["employees"],
        history_shares=sizes["history_shares"],
        history_days=sizes["history_days"],
        night_shares=sizes["night_shares"],
        seed=args.seed,
    )
    sections = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        print(f"unknown sections: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    report = common.Report()
    started = time.monotonic()
    print(f"sharewhy bench — profile {args.profile}: {spec}, {sizes}", flush=True)
    failed = False
    for section in sections:
        section_started = time.monotonic()
        print(f"\n== {section}", flush=True)
        try:
            if section == "loader":
                from bench import loader

                loader.run(report, sizes["loader_rows"], sizes["reps"], args.seed, dlt=not args.no_dlt)
            elif section == "memory":
                from bench import memory

                memory.run(report, replace(spec, night_shares=sizes["memory_rows"]), sizes["reps"])
            elif section == "night":
                from bench import night

                night.run(
                    report,
                    spec,
                    sizes["reps"],
                    sizes["growth"],
                    full_refresh_reps=args.profile == "full" and not args.full_refresh_from_first_build,
                    audit_history=args.profile != "full" or args.audit_history,
                )
            elif section == "orchestration":
                from bench import orchestration

                orchestration.run(report, sizes["reps"])
            elif section == "celery":
                from bench import celery

                celery.run(report, sizes["reps"])
            elif section == "x":
                from bench import x_metrics

                x_metrics.run(report, spec, sizes["reps"], sizes["growth"])
        except Exception as error:  # one section failing must not hide the others' figures
            failed = True
            traceback.print_exc()
            report.note(f"{section}: could not be measured: {type(error).__name__}: {str(error)[:300]}")
        print(f"   ({section}: {time.monotonic() - section_started:.0f} s)", flush=True)
    title = f"### `{'make bench' if args.profile == 'quick' else 'make bench-full' if args.profile == 'full' else 'python -m bench --profile ' + args.profile}` ({time.monotonic() - started:.0f} s)"
    table = report.markdown(title)
    common.BENCH_HOME.mkdir(parents=True, exist_ok=True)
    (common.BENCH_HOME / f"latest-{args.profile}.md").write_text(table)
    print("\n" + table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
