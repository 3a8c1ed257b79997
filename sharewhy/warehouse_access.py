"""Warehouse access: the `bi_reader` role for BI tools, which can read `bi` and nothing else, and what PUBLIC may
not do in the warehouse database. Maintained by every publish (`expectations.publish`) and by the BI tool's
provisioning (`bi_tool.provision`), idempotently, through the functions here only.

- The password comes from `SHAREWHY_BI_READER_PASSWORD`. It is hashed (SCRAM-SHA-256) by libpq on the client,
  so the plain password never reaches the server, its logs or `pg_stat_activity`. When set, every publish
  (re)applies it with LOGIN; when unset, a missing role is created NOLOGIN, and an existing role keeps its login
  and password (a worker started without the variable must not lock BI tools out). Both cases are logged.
- Privileges: CONNECT on the warehouse database, USAGE on schema `bi`, SELECT on its views. Nothing on raw,
  staging, intermediate, marts, bi_build, audit or the release schemas: the views in `bi` read the release with
  their owner's rights, so the reader needs none there. The grants are given inside the publish transaction,
  after the views are (re)created: a recreated view starts without grants, and readers only ever see views
  that already carry them.
- Nor what PostgreSQL gives every role (PUBLIC) by default, revoked in the warehouse database at every publish
  (`revoke_public_defaults`): CONNECT and TEMP on the database (CONNECT is granted to `bi_reader` by name; the
  owner keeps its own), CREATE on schema `public` (PUBLIC's before PostgreSQL 15; USAGE stays, which reads
  nothing by itself: without it a reader has no current schema, which BI tools' drivers ask for), and
  EXECUTE on the functions that create large objects (`lo_creat`, `lo_create`, `lo_from_bytea`: an object
  persists in the database, whoever made it). Revoking on the database needs its owner, on the functions a
  superuser: a role that cannot leaves them as they are, and a warning names what is left.
- CONNECT to the server's other databases is theirs to refuse, not this database's: each database grants it to
  PUBLIC by default. An operator runs `revoke connect on database <name> from public` in each other database
  (`postgres` included) and grants it to the roles that need it, or adds a pg_hba.conf line
  `host all bi_reader 0.0.0.0/0 reject` after the one that lets `bi_reader` reach the warehouse database.
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
            log.warning(
                "%s is not set: created role %s NOLOGIN (BI tools cannot log in until it is set)", PASSWORD_ENV, ROLE
            )
        return
    verifier = conn.pgconn.encrypt_password(password.encode(), ROLE.encode(), b"scram-sha-256").decode()
    login = sql.SQL("login password {} {}").format(sql.Literal(verifier), _LIMITS)
    if not _role_exists(conn) and _create(conn, sql.SQL("create role {} {}").format(role, login)):
        log.info("created role %s with LOGIN (password from %s)", ROLE, PASSWORD_ENV)
        return
    conn.execute(sql.SQL("alter role {} {}").format(role, login))
    log.info("role %s: LOGIN, password from %s", ROLE, PASSWORD_ENV)


def grant_read_on_bi(conn: psycopg.Connection) -> None:
    """Let `bi_reader` connect to this database and read every view of `bi` (as they are now), and nothing else."""
    (database,) = conn.execute("select current_database()").fetchone()
    role, bi = sql.Identifier(ROLE), sql.Identifier(settings.BI_SCHEMA)
    conn.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database), role))
    conn.execute(sql.SQL("grant usage on schema {} to {}").format(bi, role))
    conn.execute(sql.SQL("grant select on all tables in schema {} to {}").format(bi, role))
    revoke_public_defaults(conn)


#: The functions through which any role creates a large object (EXECUTE is PUBLIC's by default).
LARGE_OBJECT_CREATORS = ("lo_creat(integer)", "lo_create(oid)", "lo_from_bytea(oid, bytea)")

#: What PUBLIC still holds after `revoke_public_defaults`, one row per right.
_PUBLIC_LEFT = """
select 'database ' || d.datname || ': ' || acl.privilege_type
from pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) acl
where d.datname = current_database() and acl.grantee = 0
union all
select 'schema public: ' || acl.privilege_type
from pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) acl
where n.nspname = 'public' and acl.grantee = 0 and acl.privilege_type = 'CREATE'
union all
select 'function ' || p.oid::regprocedure::text || ': ' || acl.privilege_type
from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) acl
where p.oid = any(%s::regprocedure[]) and acl.grantee = 0
"""


def revoke_public_defaults(conn: psycopg.Connection) -> list[str]:
    """Take from PUBLIC what PostgreSQL gives every role in this database (see the module docstring); return what
    PUBLIC still holds (rights this role may not revoke), each also logged as a warning."""
    (database,) = conn.execute("select current_database()").fetchone()
    conn.execute(sql.SQL("revoke all on database {} from public").format(sql.Identifier(database)))
    if conn.execute("select exists (select from pg_namespace where nspname = 'public')").fetchone()[0]:
        conn.execute("revoke create on schema public from public")
    for function in LARGE_OBJECT_CREATORS:
        conn.execute(sql.SQL("revoke all on function pg_catalog.{} from public").format(sql.SQL(function)))
    left = [right for (right,) in conn.execute(_PUBLIC_LEFT, (list(LARGE_OBJECT_CREATORS),))]
    for right in left:
        log.warning("PUBLIC still holds %s: this role may not revoke it; the database owner or a superuser must", right)
    return left


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
