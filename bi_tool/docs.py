"""`make docs`: the dbt docs site for analysts — every model, column, test and the lineage from sources to `bi`.

`dbt docs generate --static` (through `sharewhy.dbt.run`, so the connection comes from the warehouse URL like every
other dbt run) writes the site into `$SHAREWHY_HOME/dbt-docs/`: `index.html` with `manifest.json` and
`catalog.json` beside it, and `static_index.html`, the same site in one file that a browser opens from disk
(no server needed). Then, unless `--no-serve`, `dbt docs serve` shows it on 127.0.0.1 until Ctrl-C.

The catalog (column types, row counts) is read from the warehouse, so run a night first (`make demo`). The `bi`
models are built into each run's own release schema (`bi_release_<run>`), which dbt docs does not name (it looks for
`bi_build`): the catalog has no types for them, their descriptions and tests are all there; the published views are described in the "Dashboards" section of the README.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import suppress

from sharewhy import dbt, ports, settings

DOCS_DIR = settings.STATE_DIR / "dbt-docs"
DEFAULT_PORT = 8081


def _warehouse_url() -> str:
    url = settings.external_warehouse_url()
    if url:
        return url
    from sharewhy_dev import warehouse

    return warehouse.start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bi_tool.docs", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("SHAREWHY_DOCS_PORT", DEFAULT_PORT)))
    parser.add_argument(
        "--host",
        default=ports.HOST,
        help="the address to serve on (docker-compose's `dbt-docs` serves on the container's own)",
    )
    parser.add_argument("--no-serve", action="store_true", help="generate the site only")
    args = parser.parse_args(argv)

    if not args.no_serve:  # before the minute of `docs generate`, not after it
        ports.exit_if_taken([(args.port, "make docs PORT={port}")], "sharewhy docs", host=args.host)
    url = _warehouse_url()
    logs = settings.STATE_DIR / "dbt-docs-logs"
    dbt.run(["docs", "generate", "--static", "--quiet"], url, target_dir=DOCS_DIR, log_dir=logs)
    print(
        f"dbt docs: {DOCS_DIR / 'index.html'}\n"
        f"          {DOCS_DIR / 'static_index.html'}  (one file: opens from disk in any browser)"
    )
    if args.no_serve:
        return 0
    print(f"serving on http://{args.host}:{args.port}/  (Ctrl-C stops)", flush=True)
    with suppress(KeyboardInterrupt):  # Ctrl-C ends the server: a normal exit
        dbt.run(
            ["docs", "serve", "--host", args.host, "--port", str(args.port), "--no-browser"],
            url,
            target_dir=DOCS_DIR,
            log_dir=logs,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
