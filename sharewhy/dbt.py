"""Run dbt against the warehouse: the project in dbt_project/, connection from the warehouse URL via PG* variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sharewhy import settings

TARGET_DIR = settings.STATE_DIR / "dbt" / "target"
LOG_DIR = settings.STATE_DIR / "dbt" / "logs"


def run(args: list[str], warehouse_url: str, target_dir: Path = TARGET_DIR, log_dir: Path = LOG_DIR) -> None:
    """Run `dbt <args>`, streaming its output; raise CalledProcessError when dbt fails."""
    env = {**os.environ, **settings.libpq_env(warehouse_url), "DO_NOT_TRACK": "1"}
    dbt = Path(sys.executable).with_name("dbt")
    command = [
        str(dbt),
        *args,
        "--project-dir",
        str(settings.DBT_PROJECT_DIR),
        "--profiles-dir",
        str(settings.DBT_PROJECT_DIR),
        "--target-path",
        str(target_dir),
        "--log-path",
        str(log_dir),
    ]
    subprocess.run(command, env=env, check=True, cwd=settings.DBT_PROJECT_DIR)
