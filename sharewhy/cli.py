"""`sharewhy` command line: the embedded warehouse, the source simulator, and the demo night."""

from __future__ import annotations

import argparse
import sys


def _warehouse(args: argparse.Namespace) -> int:
    from sharewhy import settings, warehouse

    external = settings.external_warehouse_url()
    if external and args.action != "url":
        print("SHAREWHY_WAREHOUSE_URL is set: using that server, the embedded warehouse is not touched.")
        return 0
    if args.action == "start":
        url = warehouse.start()
        print(f"embedded warehouse {warehouse.status()}\n{url}")
    elif args.action == "stop":
        print("stopped" if warehouse.stop() else "was not running")
    elif args.action == "status":
        print(warehouse.status())
    elif args.action == "url":
        print(settings.warehouse_url())
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from simulator import server

    return server.main(args.simulator_args)


def _demo(args: argparse.Namespace) -> int:
    from sharewhy import demo

    return demo.run(night=args.night)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sharewhy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    wh = commands.add_parser("warehouse", help="the embedded PostgreSQL warehouse")
    wh.add_argument("action", choices=["start", "stop", "status", "url"])
    wh.set_defaults(handler=_warehouse)

    sim = commands.add_parser("simulate", help="the local simulator of every source API", add_help=False)
    sim.add_argument("simulator_args", nargs=argparse.REMAINDER, help="see `sharewhy simulate serve --help`")
    sim.set_defaults(handler=_simulate)

    demo = commands.add_parser("demo", help="run one complete night through Airflow on the embedded default")
    demo.add_argument("--night", help="logical date of the night, YYYY-MM-DD (default: yesterday, UTC)")
    demo.set_defaults(handler=_demo)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
