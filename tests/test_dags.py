"""DAG integrity: every file in dags/ imports cleanly and follows the project's scheduling policy."""

from __future__ import annotations

import pytest

from sharewhy import settings

DAG_FILES = sorted(p for p in settings.DAGS_DIR.glob("*.py"))


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(settings.DAGS_DIR))


def test_every_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_each_file_defines_exactly_the_dag_it_is_named_after(dagbag, path):
    dag_ids = [dag_id for dag_id, dag in dagbag.dags.items() if dag.fileloc == str(path)]
    assert dag_ids == [path.stem]


def test_policy_tags_owner_no_catchup_one_run_at_a_time(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert not dag.catchup, dag_id
        assert dag.max_active_runs == 1, dag_id
        assert dag.default_args["owner"] == "data-engineering", dag_id


def test_ingestion_dags_declare_the_raw_assets_they_land(dagbag):
    from pipeline.assets import RAW_TABLES

    landed = {
        outlet.name
        for dag_id, dag in dagbag.dags.items()
        if dag_id.startswith("ingest_")
        for task in dag.tasks
        for outlet in task.outlets
    }
    assert landed == {asset.name for asset in RAW_TABLES}


def test_transform_is_scheduled_on_every_raw_asset_and_publishes_bi(dagbag):
    from pipeline.assets import BI, RAW_TABLES

    dag = dagbag.dags["transform_audit_publish"]
    scheduled_on = {asset.name for asset in dag.timetable.asset_condition.objects}
    assert scheduled_on == {asset.name for asset in RAW_TABLES}
    assert [o.name for o in dag.get_task("publish").outlets] == [BI.name]
