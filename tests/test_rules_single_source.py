"""Each rule is stated once: an override of the rule reaches every part that applies it.

k-anonymity: `SHAREWHY_THRESHOLD_K_ANONYMITY` changes the threshold the dbt models suppress with (a transform run's
`--vars`), the GX gate's default `Thresholds` and the dashboards' texts alike. The override is read at import, so it
is checked in a fresh interpreter; the dbt side is the SQL dbt really compiles.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sharewhy import settings

_PROBE = """
import json, sys
from pathlib import Path
from bi_tool import dashboards
from expectations.thresholds import DEFAULT
from sharewhy import dbt, transform
target = Path(sys.argv[2])
dbt.run(["compile", "--quiet", "--select", "content_obligation", *transform.release_vars("probe")], sys.argv[1],
        target_dir=target, log_dir=target / "logs")
compiled = next(target.glob("compiled/sharewhy/models/bi/content_obligation.sql")).read_text()
print(json.dumps({"gate": DEFAULT.k_anonymity, "dashboards": dashboards.K, "model_sql": compiled}))
"""


def _probe(fresh_db: str, tmp_path, k: str | None) -> dict:
    env = {name: value for name, value in os.environ.items() if name != "SHAREWHY_THRESHOLD_K_ANONYMITY"}
    if k is not None:
        env["SHAREWHY_THRESHOLD_K_ANONYMITY"] = k
    result = subprocess.run([sys.executable, "-c", _PROBE, fresh_db, str(tmp_path / f"target-{k}")], env=env,
                            cwd=settings.REPO_ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_k_anonymity_override_reaches_the_models_the_gate_and_the_dashboards(fresh_db, tmp_path):
    default = _probe(fresh_db, tmp_path, None)
    overridden = _probe(fresh_db, tmp_path, "7")

    dbt_default = int(settings.DBT_VARS["k_anonymity"])
    assert (default["gate"], default["dashboards"]) == (dbt_default, dbt_default)
    assert f"surveyed.respondents >= {dbt_default}" in default["model_sql"]
    assert (overridden["gate"], overridden["dashboards"]) == (7, 7)
    assert "surveyed.respondents >= 7" in overridden["model_sql"]
