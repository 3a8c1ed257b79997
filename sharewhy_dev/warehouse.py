"""The embedded warehouse: a PostgreSQL server from the `pgserver` wheel, data in a project-local folder.

Why pgserver: the wheel carries its own PostgreSQL 16 binaries, so the README path needs nothing from the
machine. It listens on a unix socket only (no TCP port at all), and when run as root it runs the server as
a dedicated `pgserver` system user, because `initdb`/`pg_ctl` refuse to run as root.

The server outlives the command that started it (`cleanup_mode=None`); `stop` shuts it down, and the data
stays in `.sharewhy/warehouse/pgdata` for the next `start`.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import warnings
from pathlib import Path

from sharewhy import settings

PGDATA = settings.WAREHOUSE_DIR / "pgdata"
DATABASE = "sharewhy"


class WarehouseNotRunning(RuntimeError):
    pass


def _postmaster():
    """The running server's postmaster info, or None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(PGDATA) if PGDATA.exists() else None
    return info if info is not None and info.is_running() else None


def start() -> str:
    """Start the embedded server (no-op when running), create the `sharewhy` database, return its URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    settings.WAREHOUSE_DIR.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(PGDATA, cleanup_mode=None)
    # With cleanup_mode=None pgserver's exit hook only does bookkeeping, and it logs after pytest or the
    # interpreter has closed the streams; the server's life is managed by `start`/`stop` here.
    atexit.unregister(server._cleanup)
    admin_url = server.get_uri("postgres")
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone()
        if not exists:
            conn.execute(f'create database "{DATABASE}"')
    return server.get_uri(DATABASE)


def running_url() -> str:
    info = _postmaster()
    if info is None:
        raise WarehouseNotRunning(
            "the embedded warehouse is not running: run `sharewhy warehouse start` "
            "(or set SHAREWHY_WAREHOUSE_URL to use your own PostgreSQL)"
        )
    return info.get_uri(database=DATABASE)


def status() -> str:
    info = _postmaster()
    if info is None:
        return f"stopped (data in {PGDATA})" if PGDATA.exists() else "not created yet"
    return f"running, pid {info.pid}, socket in {info.socket_dir}, data in {PGDATA}"


def stop() -> bool:
    """Stop the server if it runs; return whether it was running."""
    info = _postmaster()
    if info is None:
        return False
    from pgserver import pg_ctl

    user = PGDATA.owner() if PGDATA.owner() != "root" else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user)
    except subprocess.CalledProcessError:
        info.process.terminate()
        info.process.wait(10)
    return True


def psql_path() -> Path:
    """The psql client the pgserver wheel ships beside its server (PostgreSQL 16)."""
    import pgserver

    return Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql"


def exec_psql(url: str, args: list[str]) -> None:
    """Replace this process with psql connected to `url`, `args` passed through. The password, if the URL has one,
    goes in PGPASSWORD: the command line (what `ps` shows) carries the rest of the URL only."""
    import psycopg.conninfo

    params = psycopg.conninfo.conninfo_to_dict(url)
    password = params.pop("password", None)
    env = {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}
    psql = str(psql_path())
    os.execve(psql, [psql, "--dbname", psycopg.conninfo.make_conninfo(**params), *args], env)
