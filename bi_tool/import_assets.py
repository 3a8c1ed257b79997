"""Provision Superset's metadata database from the bundle: the admin user, every asset (overwritten), then the
stakeholders' read-only role and user.

Runs inside .venv-superset (`python bi_tool/import_assets.py BUNDLE_DIR`), with SUPERSET_CONFIG_PATH and
SUPERSET_HOME set by bi_tool.provision; it imports nothing from sharewhy. Read from the environment (never argv,
so they stay out of `ps`): SHAREWHY_SUPERSET_ADMIN_PASSWORD, SHAREWHY_SUPERSET_VIEWER_PASSWORD,
SHAREWHY_SUPERSET_DB_URI (the warehouse URI without password) and SHAREWHY_BI_READER_PASSWORD.

Why ImportAssetsCommand and not `superset import-dashboards`: the dashboard import creates a dashboard's charts,
datasets and database only when they are missing and never updates them (it imports them with overwrite=False),
so a chart changed in code, or a new warehouse password, would not reach a Superset provisioned before.
ImportAssetsCommand is what `POST /api/v1/assets/import/` runs ("for managing Superset assets externally under
source control, and will overwrite everything"); it takes the database password apart from the files.
After the import each dataset's columns are synced from its view, so every published column is explorable, and
charts imported before but no longer in the bundle are deleted (only those marked managed externally).

The viewer (`viewer`, role `sharewhy_viewer`) is built with Superset's security manager the way its docs intend
for consumers: a role of its own holding part of the built-in Gamma role's permissions, plus `datasource_access`
on each dataset of the bundle, nothing else. The part of Gamma kept is what viewing a dashboard needs, read-only:
Superset's own set for that (`PUBLIC_ROLE_PERMISSIONS`, what `PUBLIC_ROLE_LIKE = "Public"` grants anonymous
viewers) and a few things a logged-in browser uses (`_VIEWER_EXTRA`). Gamma itself is not given: it may create
charts and dashboards, edit its own, read the database list, manage user registrations. No `database_access`
either, which would open every table the connection can read rather than the datasets. Each run sets the role's
permissions and the user's roles and password anew, so a re-run repairs drift and keeps one user.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import yaml

ADMIN = "admin"
VIEWER = "viewer"
VIEWER_ROLE = "sharewhy_viewer"

#: Beyond Superset's PUBLIC_ROLE_PERMISSIONS (and only where Gamma has them too): what a logged-in stakeholder's
#: browser uses. Not the password reset of one's own account: the password belongs to `make bi`, which sets it.
_VIEWER_EXTRA = {
    ("can_read", "SecurityRestApi"),  # the CSRF token the web app fetches before posting a chart's query
    ("can_userinfo", "UserDBModelView"),  # one's own profile page
    ("can_get", "MenuApi"),  # the navigation bar
    ("menu_access", "Dashboards"),  # … with the list of dashboards one may open
    ("can_recent_activity", "Log"),  # the profile page's recent activity
    ("can_log", "Superset"),  # the web app logging its page views
    ("can_csv", "Superset"),  # a chart's data downloaded as CSV (its data, read-only)
}


def _contents(bundle_dir: Path, database_file: str, uri: str) -> dict[str, str]:
    contents = {}
    for path in sorted(bundle_dir.rglob("*.yaml")):
        name = path.relative_to(bundle_dir).as_posix()
        text = path.read_text()
        if name == database_file:
            config = yaml.safe_load(text)
            config["sqlalchemy_uri"] = uri
            text = yaml.safe_dump(config)
        contents[name] = text
    return contents


def _ensure_user(security_manager, username: str, last_name: str, role, password: str) -> str:
    """`username` active, with `role` as its only role and `password`; say what had to change."""
    from werkzeug.security import check_password_hash, generate_password_hash

    user = security_manager.find_user(username=username)
    if user is None:
        created = security_manager.add_user(
            username, "Superset", last_name, f"{username}@sharewhy.invalid", role, password=password
        )
        if not created:
            raise SystemExit(f"could not create the Superset user {username}")
        return "created"
    changed = []
    if not check_password_hash(user.password, password):
        user.password = generate_password_hash(password)
        changed.append("password")
    if list(user.roles) != [role] or not user.active:
        user.roles, user.active = [role], True
        changed.append("roles")
    if changed:
        security_manager.update_user(user)
        return " and ".join(changed) + " updated"
    return "unchanged"


def _ensure_admin(security_manager, password: str) -> str:
    return _ensure_user(security_manager, ADMIN, "Admin", security_manager.find_role("Admin"), password)


def viewer_permissions(security_manager, datasets) -> list:
    """The viewer role's permissions: Gamma's that view a dashboard, and `datasource_access` on `datasets`."""
    gamma = security_manager.find_role("Gamma")
    if gamma is None:
        raise SystemExit("Superset has no Gamma role: was `superset init` run?")
    viewing = set(security_manager.PUBLIC_ROLE_PERMISSIONS) | _VIEWER_EXTRA
    kept = [pvm for pvm in gamma.permissions if (pvm.permission.name, pvm.view_menu.name) in viewing]
    access = [
        security_manager.add_permission_view_menu("datasource_access", dataset.get_perm()) for dataset in datasets
    ]
    return sorted(kept, key=str) + sorted(access, key=str)


def _ensure_viewer(security_manager, password: str, datasets) -> str:
    role = security_manager.find_role(VIEWER_ROLE) or security_manager.add_role(VIEWER_ROLE)
    permissions = viewer_permissions(security_manager, datasets)
    if {pvm.id for pvm in role.permissions} != {pvm.id for pvm in permissions}:
        role.permissions = permissions
        state = "permissions set"
    else:
        state = "permissions unchanged"
    return f"{state} ({len(permissions)}), user {_ensure_user(security_manager, VIEWER, 'Viewer', role, password)}"


def main(bundle_dir: str, database_file: str) -> int:
    started = time.monotonic()
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import db, security_manager
        from superset.commands.importers.v1.assets import ImportAssetsCommand
        from superset.connectors.sqla.models import SqlaTable
        from superset.models.slice import Slice
        from superset.utils.core import override_user

        admin = _ensure_admin(security_manager, os.environ["SHAREWHY_SUPERSET_ADMIN_PASSWORD"])
        contents = _contents(Path(bundle_dir), database_file, os.environ["SHAREWHY_SUPERSET_DB_URI"])
        passwords = {database_file: os.environ["SHAREWHY_BI_READER_PASSWORD"]}
        with override_user(security_manager.find_user(username=ADMIN)):
            ImportAssetsCommand(contents, passwords=passwords).run()

        # charts that came from the bundle (managed externally) but are no longer in it: gone from the code
        charts = {yaml.safe_load(text)["uuid"] for name, text in contents.items() if name.startswith("charts/")}
        removed = 0
        for chart in db.session.query(Slice).filter(Slice.is_managed_externally.is_(True)).all():
            if str(chart.uuid) not in charts:
                db.session.delete(chart)
                removed += 1

        uuids = [yaml.safe_load(text)["uuid"] for name, text in contents.items() if name.startswith("datasets/")]
        datasets = db.session.query(SqlaTable).filter(SqlaTable.uuid.in_(uuids)).all()
        problems = []
        for dataset in datasets:
            try:
                dataset.fetch_metadata()
            except Exception as exc:  # a view not published in this warehouse yet: its charts will say so
                problems.append(f"{dataset.schema}.{dataset.table_name}: {exc}")
        db.session.commit()
        if len(datasets) != len(uuids):
            raise SystemExit(f"{len(uuids) - len(datasets)} datasets of the bundle are missing after the import")
        viewer = _ensure_viewer(security_manager, os.environ["SHAREWHY_SUPERSET_VIEWER_PASSWORD"], datasets)
        db.session.commit()
    print(
        f"admin user {admin}; imported {len(contents)} files, removed {removed} charts no longer in the bundle, "
        f"synced {len(uuids)} datasets; viewer role {VIEWER_ROLE} {viewer} "
        f"in {time.monotonic() - started:.1f} s"
    )
    for problem in problems:
        print(f"WARNING: could not read {problem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
