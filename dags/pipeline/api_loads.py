"""The body of a landing task for the API sources whose entry points take the same arguments: the warehouse, this
run's night, the API from the source's Airflow connection, and what the kind of source adds (the refresh schedule
for the sources measuring the shares, the survey ids for the alternative survey vendors). Each returns the load's
LoadReport as a dict, the task's XCom.

Called inside tasks only (it reads the task context and Airflow connections); the ingestion code is imported there
too, so parsing a DAG file does not import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

from sharewhy import settings

if TYPE_CHECKING:
    from ingestion.loader import LoadReport


def land_share_measures(entry_point: Callable[..., LoadReport], conn_id: str) -> dict:
    """Land what a source measuring the advocacy shares (LinkedIn member posts, X, Bitly) says of the posts or links
    the refresh schedule (SHAREWHY_REFRESH_SCHEDULE) says are due tonight."""
    from ingestion.refresh import RefreshPolicy
    from pipeline.connections import api_config

    refresh = RefreshPolicy.parse(settings.REFRESH_SCHEDULE)
    return asdict(entry_point(settings.warehouse_url(), _night(), api_config(conn_id), refresh=refresh))


def land_survey_responses(entry_point: Callable[..., LoadReport], conn_id: str) -> dict:
    """Land an alternative survey vendor's (SurveyMonkey, Qualtrics) responses — or, with SurveyMonkey's
    `land_surveymonkey_survey_details`, their catalogue — for the surveys its connection lists in `extra.survey_ids`."""
    from pipeline.connections import api_config, survey_ids

    return asdict(entry_point(settings.warehouse_url(), _night(), api_config(conn_id), survey_ids(conn_id)))


def _night():
    from airflow.sdk import get_current_context

    from pipeline.runs import night_of

    return night_of(get_current_context())


def land_member_shard(entry_point: Callable[..., LoadReport], conn_id: str, network: str, shard: int) -> dict:
    """Land what a source read with each member's own token (LinkedIn member post analytics, X non-public metrics)
    says of the posts due tonight, for the members of shard `shard` of settings.INGESTION_SHARDS (one mapped task
    instance each: ingestion/shards.py). The XCom holds counts only: never a token."""
    from airflow.sdk import get_current_context

    from ingestion.refresh import RefreshPolicy
    from ingestion.shards import Shard
    from pipeline.connections import api_config, member_access

    member_shard = Shard(shard, settings.INGESTION_SHARDS)
    get_current_context()["shard_label"] = f"shard {member_shard.label}"  # the mapped instance's name in the UI
    refresh = RefreshPolicy.parse(settings.REFRESH_SCHEDULE)
    report = entry_point(
        settings.warehouse_url(),
        _night(),
        api_config(conn_id),
        refresh=refresh,
        members=member_access(conn_id, network),
        shard=member_shard,
    )
    return {**asdict(report), "shard": member_shard.label}


def land_token_status(network: str) -> dict:
    """The night's snapshot of the members' token statuses of `network` (consent coverage), once every shard landed."""
    from ingestion.run import land_member_token_status

    return asdict(land_member_token_status(settings.warehouse_url(), _night(), network))
