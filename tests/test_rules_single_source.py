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
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, fresh_db, str(tmp_path / f"target-{k}")],
        env=env,
        cwd=settings.REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_k_anonymity_override_reaches_the_models_the_gate_and_the_dashboards(fresh_db, tmp_path):
    default = _probe(fresh_db, tmp_path, None)
    overridden = _probe(fresh_db, tmp_path, "7")

    dbt_default = int(settings.DBT_VARS["k_anonymity"])
    assert (default["gate"], default["dashboards"]) == (dbt_default, dbt_default)
    assert f"respondents >= {dbt_default}" in default["model_sql"]
    assert (overridden["gate"], overridden["dashboards"]) == (7, 7)
    assert "respondents >= 7" in overridden["model_sql"]


#: The gate's freshness thresholds and the raw table each applies to.
FRESHNESS_THRESHOLDS = {
    "shares_max_age_hours": "advocacy__shares",
    "linkedin_max_age_hours": "linkedin__member_post_analytics",
    "typeform_max_age_hours": "typeform__responses",
    "hr_roster_max_age_hours": "hr__roster",
    "linkedin_organization_daily_max_age_hours": "linkedin__organization_daily_statistics",
    "x_max_age_hours": "x__tweet_metrics",
    "bitly_max_age_hours": "bitly__link_clicks",
    "linkedin_organization_posts_max_age_hours": "linkedin__organization_post_statistics",
    "surveymonkey_max_age_hours": "surveymonkey__responses",
    "qualtrics_max_age_hours": "qualtrics__responses",
}


def test_the_gates_freshness_limits_are_dbts_source_freshness(tmp_path):
    """dbt itself (its parsed manifest) says each source table's `error_after`; the gate's defaults are the same."""
    from expectations.thresholds import Thresholds
    from sharewhy import dbt

    dbt.run(["parse", "--quiet"], "postgresql://unused@localhost/unused", target_dir=tmp_path, log_dir=tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    hours_per = {"minute": 1 / 60, "hour": 1, "day": 24}
    dbt_limits = {}
    for source in manifest["sources"].values():
        error_after = (source.get("freshness") or {}).get("error_after") or {}
        dbt_limits[source["identifier"]] = (
            error_after["count"] * hours_per[error_after["period"]] if error_after.get("count") else None
        )

    defaults = Thresholds()
    assert {field: getattr(defaults, field) for field in FRESHNESS_THRESHOLDS} == {
        field: dbt_limits[table] for field, table in FRESHNESS_THRESHOLDS.items()
    }
    assert set(dbt_limits) >= set(FRESHNESS_THRESHOLDS.values())
