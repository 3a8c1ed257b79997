"""How GX reaches the warehouse: a SQLAlchemy URL made from sharewhy's libpq URL, handed over through the environment.

GX needs a SQLAlchemy URL, sharewhy speaks libpq (a `postgresql://` URL or `key=value` conninfo). The embedded
warehouse listens on a unix socket only (`postgresql://postgres:@/sharewhy?host=/path/to/socketdir`), and GX's
`PostgresDsn` validation rejects a URL without a network host ("URL host invalid"). So the socket directory goes
into the `host` query parameter, which the psycopg2 driver hands to libpq as is, and the URL reaches GX as the
`${SHAREWHY_GX_WAREHOUSE_URL}` placeholder: GX resolves it when it connects, skips the DSN validation for it, and
never holds the password in its configuration.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import psycopg.conninfo
from sqlalchemy.engine import URL

#: Environment variable through which the warehouse URL reaches GX (set in-process only, never written to disk).
GX_URL_ENV = "SHAREWHY_GX_WAREHOUSE_URL"

#: What GX's data source is configured with instead of the URL itself.
GX_CONNECTION_STRING = "${" + GX_URL_ENV + "}"


def sqlalchemy_url(warehouse_url: str) -> str:
    """`postgresql+psycopg2://…` for a libpq URL or conninfo, socket directories passed as `?host=`."""
    params = {key: str(value) for key, value in psycopg.conninfo.conninfo_to_dict(warehouse_url).items() if value}
    user = params.pop("user", None)
    password = params.pop("password", None)
    dbname = params.pop("dbname", None)
    host = params.get("host", "")
    on_network = host and not host.startswith(("/", "@")) and "," not in host
    url = URL.create(
        "postgresql+psycopg2",
        username=user,
        password=password,
        host=params.pop("host") if on_network else None,
        port=int(params.pop("port")) if on_network and "port" in params else None,
        database=dbname,
        query=params,  # socket host/port and any other libpq option (sslmode, …) go to libpq as they are
    )
    return url.render_as_string(hide_password=False)


@contextlib.contextmanager
def gx_url_in_environment(warehouse_url: str) -> Iterator[None]:
    """Expose the warehouse to GX's `${…}` substitution for the duration of an audit, then remove it again.

    Removing it keeps the password out of the environment of anything the process starts later.
    """
    previous = os.environ.get(GX_URL_ENV)
    os.environ[GX_URL_ENV] = sqlalchemy_url(warehouse_url)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(GX_URL_ENV, None)
        else:
            os.environ[GX_URL_ENV] = previous
