"""Provision Superset's metadata database from the bundle: the admin user, then every asset, overwritten.

Runs inside .venv-superset (`python bi_tool/import_assets.py BUNDLE_DIR`), with SUPERSET_CONFIG_PATH and
SUPERSET_HOME set by bi_tool.provision; it imports nothing from sharewhy. Read from the environment (never argv,
so they stay out of `ps`): SHAREWHY_SUPERSET_ADMIN_PASSWORD, SHAREWHY_SUPERSET_DB_URI (the warehouse URI without
password) and SHAREWHY_BI_READER_PASSWORD.

Why ImportAssetsCommand and not `superset import-dashboards`: the dashboard import creates a dashboard's charts,
datasets and database only when they are missing and never updates them (it imports them with overwrite=False),
so a chart changed in code, or a new warehouse password, would not reach a Superset provisioned before.
ImportAssetsCommand is what `POST /api/v1/assets/import/` runs ("for managing Superset assets externally under
source control, and will overwrite everything"); it takes the database password apart from the files.
After the import each dataset's columns are synced from its view, so every published column is explorable, and
charts imported before but no longer in the bundle are deleted (only those marked managed externally).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import yaml

ADMIN = "admin"


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


def _ensure_admin(security_manager, password: str) -> str:
    from werkzeug.security import check_password_hash, generate_password_hash

    user = security_manager.find_user(username=ADMIN)
    if user is None:
        role = security_manager.find_role("Admin")
        created = security_manager.add_user(ADMIN, "Superset", "Admin", "admin@sharewhy.invalid", role,
                                            password=password)
        if not created:
            raise SystemExit("could not create the Superset admin user")
        return "created"
    if not check_password_hash(user.password, password):
        user.password = generate_password_hash(password)
        security_manager.update_user(user)
        return "password updated"
    return "unchanged"


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
        problems = []
        for dataset in db.session.query(SqlaTable).filter(SqlaTable.uuid.in_(uuids)).all():
            try:
                dataset.fetch_metadata()
            except Exception as exc:  # a view not published in this warehouse yet: its charts will say so
                problems.append(f"{dataset.schema}.{dataset.table_name}: {exc}")
        db.session.commit()
    print(f"admin user {admin}; imported {len(contents)} files, removed {removed} charts no longer in the bundle, "
          f"synced {len(uuids)} datasets "
          f"in {time.monotonic() - started:.1f} s")
    for problem in problems:
        print(f"WARNING: could not read {problem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
