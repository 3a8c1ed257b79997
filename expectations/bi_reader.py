"""The `bi_reader` role for BI tools: it can read `bi` and nothing else. Maintained by `publish`, idempotently.

- The password comes from `SHAREWHY_BI_READER_PASSWORD`. It is hashed (SCRAM-SHA-256) by libpq on the client,
  so the plain password never reaches the server, its logs or `pg_stat_activity`. When set, every publish
  (re)applies it with LOGIN; when unset, a missing role is created NOLOGIN, and an existing role keeps its login
  and password (a worker started without the variable must not lock BI tools out). Both cases are logged.
- Privileges: CONNECT on the warehouse database, USAGE on schema `bi`, SELECT on its views. Nothing on raw,
  staging, intermediate, marts, bi_build, audit or the release schemas: the views in `bi` read the release with
  their owner's rights, so the reader needs none there. The grants are given inside the publish transaction,
  after the views are (re)created: a recreated view starts without grants, and readers only ever see views
  that already carry them.
- A role belongs to the whole PostgreSQL cluster, its grants to one database: publishing into several
  databases of one server shares the role (and its password) between them.
- Creating the role and setting its password needs CREATEROLE (or superuser) for the publishing user.
"""

from __future__ import annotations

import logging
import os

import psycopg
from psycopg import sql

from sharewhy import settings

log = logging.getLogger(__name__)

ROLE = "bi_reader"
PASSWORD_ENV = "SHAREWHY_BI_READER_PASSWORD"

#: Whatever else a role could be given, the reader is not.
_LIMITS = sql.SQL("nosuperuser nocreatedb nocreaterole noreplication nobypassrls")


def ensure_role(conn: psycopg.Connection) -> None:
    """Create or update `bi_reader` as the environment says (see the module docstring)."""
    password = os.environ.get(PASSWORD_ENV) or None
    role = sql.Identifier(ROLE)
    if password is None:
        if _role_exists(conn) or not _create(conn, sql.SQL("create role {} nologin {}").format(role, _LIMITS)):
            log.warning("%s is not set: role %s left as it is (login and password unchanged)", PASSWORD_ENV, ROLE)
        else:
            log.warning("%s is not set: created role %s NOLOGIN (BI tools cannot log in until it is set)",
                        PASSWORD_ENV, ROLE)
        return
    verifier = conn.pgconn.encrypt_password(password.encode(), ROLE.encode(), b"scram-sha-256").decode()
    login = sql.SQL("login password {} {}").format(sql.Literal(verifier), _LIMITS)
    if not _role_exists(conn) and _create(conn, sql.SQL("create role {} {}").format(role, login)):
        log.info("created role %s with LOGIN (password from %s)", ROLE, PASSWORD_ENV)
        return
    conn.execute(sql.SQL("alter role {} {}").format(role, login))
    log.info("role %s: LOGIN, password from %s", ROLE, PASSWORD_ENV)


def grant_read_on_bi(conn: psycopg.Connection) -> None:
    """Let `bi_reader` connect to this database and read every view of `bi` (as they are now)."""
    (database,) = conn.execute("select current_database()").fetchone()
    role, bi = sql.Identifier(ROLE), sql.Identifier(settings.BI_SCHEMA)
    conn.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database), role))
    conn.execute(sql.SQL("grant usage on schema {} to {}").format(bi, role))
    conn.execute(sql.SQL("grant select on all tables in schema {} to {}").format(bi, role))


def _role_exists(conn: psycopg.Connection) -> bool:
    return conn.execute("select exists (select from pg_roles where rolname = %s)", (ROLE,)).fetchone()[0]


def _create(conn: psycopg.Connection, statement: sql.Composed) -> bool:
    """Run a `create role` in a savepoint; False when a concurrent publish (another database) created it first."""
    try:
        with conn.transaction():
            conn.execute(statement)
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        return False
    return True
