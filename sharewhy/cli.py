"""`sharewhy` command line: the embedded warehouse, the source simulator, the demo night, the local Airflow stack
(nights and backfills through it), and the survey webhook receiver."""

from __future__ import annotations

import argparse
import functools
import sys
from datetime import date

#: What the development commands (`warehouse`, `simulate`, `airflow`, `demo`) import, inside the command only: a
#: checkout installed with `make install` has them, the production image and the wheel do not. The production
#: commands (`webhooks`, `tokens`) never import them (tests/test_layout.py).
DEV_PACKAGES = ("sharewhy_dev", "simulator")


def _night(text: str) -> date:
    """argparse type of a night: a usage error naming the argument, not a traceback."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; expected YYYY-MM-DD") from None


def _dev_command(handler):
    """A development command: where the development packages are not installed, a clear error, not a traceback."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ModuleNotFoundError as missing:
            if missing.name not in DEV_PACKAGES:
                raise
            print(
                f"sharewhy {args.command}: a development command, and {missing.name} is not installed here "
                "(a checkout of the repository installed with `make install` has it)",
                file=sys.stderr,
            )
            return 2

    return run


@_dev_command
def _warehouse(args: argparse.Namespace) -> int:
    from sharewhy import settings
    from sharewhy_dev import warehouse

    if args.psql_args and args.action != "psql":
        args.parser.error(f"warehouse {args.action}: unexpected arguments {' '.join(args.psql_args)}")
    external = settings.external_warehouse_url()
    if args.action == "psql":
        try:
            warehouse.exec_psql(settings.warehouse_url(), args.psql_args)
        except warehouse.WarehouseNotRunning as error:
            print(f"sharewhy warehouse psql: {error}", file=sys.stderr)
            return 1
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


@_dev_command
def _simulate(args: argparse.Namespace) -> int:
    from simulator import server

    return server.main(args.simulator_args)


def _webhooks(args: argparse.Namespace) -> int:
    from sharewhy import webhooks

    return webhooks.main(args.webhooks_args)


@_dev_command
def _airflow(args: argparse.Namespace) -> int:
    from sharewhy_dev import airflow_stack

    if args.action == "up":
        return airflow_stack.up(
            simulate=not args.no_simulator, webhooks=not args.no_webhooks, executor=args.executor, workers=args.workers
        )
    if args.action == "stop":
        return airflow_stack.stop()
    if args.first is None:
        args.parser.error(f"airflow {args.action}: the first night is required (YYYY-MM-DD)")
    if args.action == "night" and args.last is not None:
        args.parser.error("airflow night: one night only; use `airflow backfill FIRST LAST` for a range")
    api = airflow_stack.local_api()
    if args.action == "night":
        result = airflow_stack.run_night(api, args.first)
        print(f"transform run {result['transform']['dag_run_id']}: {result['transform']['state']}")
        return 0 if result["transform"]["state"] == "success" else 1
    result = airflow_stack.backfill(api, args.first, args.last or args.first)
    for dag_id, nights in result["ingestion"].items():
        print(f"  {dag_id:<26} " + "  ".join(f"{night} {state}" for night, state in nights.items()))
    print(f"  transform_audit_publish    {result['transform']}: success")
    return 0


def _tokens(args: argparse.Namespace) -> int:
    from sharewhy import consent

    return consent.main(args.tokens_args)


@_dev_command
def _demo(args: argparse.Namespace) -> int:
    from sharewhy_dev import demo

    return demo.run(night=args.night)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sharewhy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    wh = commands.add_parser("warehouse", help="the embedded PostgreSQL warehouse")
    wh.add_argument("action", choices=["start", "stop", "status", "url", "psql"])
    wh.add_argument(
        "psql_args",
        nargs=argparse.REMAINDER,
        help="psql: arguments passed on to psql (e.g. -c 'select * from bi.motivation_lift')",
    )
    wh.set_defaults(handler=_warehouse, parser=wh)

    sim = commands.add_parser("simulate", help="the local simulator of every source API", add_help=False)
    sim.add_argument("simulator_args", nargs=argparse.REMAINDER, help="see `sharewhy simulate serve --help`")
    sim.set_defaults(handler=_simulate)

    hooks = commands.add_parser("webhooks", help="receive survey webhooks → Airflow asset events", add_help=False)
    hooks.add_argument("webhooks_args", nargs=argparse.REMAINDER, help="see `sharewhy webhooks serve --help`")
    hooks.set_defaults(handler=_webhooks)

    af = commands.add_parser(
        "airflow", help="the local Airflow stack (`make airflow`), nights and backfills through it"
    )
    af.add_argument("action", choices=["up", "stop", "night", "backfill"])
    af.add_argument("first", nargs="?", type=_night, help="night / backfill: first night, YYYY-MM-DD")
    af.add_argument("last", nargs="?", type=_night, help="backfill: last night, YYYY-MM-DD (default: the first)")
    af.add_argument("--no-simulator", action="store_true", help="up: use the AIRFLOW_CONN_* of the environment")
    af.add_argument("--no-webhooks", action="store_true", help="up: do not start the webhook receiver")
    af.add_argument(
        "--executor",
        choices=["local", "celery"],
        default="local",
        help="up: LocalExecutor (default) or CeleryExecutor over SHAREWHY_CELERY_BROKER_URL",
    )
    af.add_argument("--workers", type=int, default=2, help="up --executor celery: how many Celery workers (2)")
    af.set_defaults(handler=_airflow, parser=af)

    tokens = commands.add_parser(
        "tokens", help="members' OAuth tokens: import, report, rotate-key, consent", add_help=False
    )
    tokens.add_argument("tokens_args", nargs=argparse.REMAINDER, help="see `sharewhy tokens --help`")
    tokens.set_defaults(handler=_tokens)

    demo = commands.add_parser("demo", help="run one complete night through Airflow on the embedded default")
    demo.add_argument("--night", type=_night, help="logical date of the night, YYYY-MM-DD (default: yesterday, UTC)")
    demo.set_defaults(handler=_demo)

    args, rest = parser.parse_known_args(argv)
    if args.handler is _tokens:  # `tokens` hands everything after it to its own parser, options first included
        args.tokens_args = rest + args.tokens_args
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        from sharewhy import settings  # noqa: F401  (reads the environment)
    except ValueError as error:  # settings.SettingsError: the message names the variable
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
