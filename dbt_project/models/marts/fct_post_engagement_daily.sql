-- One row per shared post × activity date (the night its counts were read): what the post gained since the
-- previous observed night. Date axis: `activity_date` (fct_shares has the `share_date` axis). Dimensions (sharer,
-- team, content) join through share_id, so a late roster correction never leaves stale copies here.
--
-- Incremental (delete+insert on post × activity date): only the rows int_linkedin__post_metrics_nightly (re)built
-- since this model's last build. The rows of a share a corrected export withdrew are deleted before the build
-- (pre-hook withdraw_superseded_shares, through the post), as fct_shares deletes the share: a share leaves
-- fct_shares in no other way, so a row here keeps its share there until a build rewrites the row.

{{
    config(
        materialized='incremental',
        unique_key=['post_urn', 'activity_date'],
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['post_urn', 'activity_date'], 'unique': true},
            {'columns': ['built_at']},
            {'columns': ['activity_date']},
        ],
        pre_hook=[
            "{{ withdraw_superseded_shares(this, ref('stg_advocacy__shares'), ref('stg_advocacy__superseded_shares'),"
            " by='post_urn', superseded_by='post_id') }}",
        ],
        post_hook=["{{ ensure_indexes(this, model.config.indexes) }}", "analyze {{ this }}"],
        on_schema_change='fail',
    )
}}

{%- set metrics = ['impressions', 'members_reached', 'reactions', 'comments', 'reshares', 'engagements', 'clicks'] %}

with

linkedin_post_nights as (

    select * from {{ ref('int_linkedin__post_metrics_nightly') }}
    {% if is_incremental() %}
    where built_at > '{{ newest_built_at(this) }}'::timestamptz
    {% endif %}

),

shares as (

    select
        share_id,
        network,
        post_id,
        shared_at
    from {{ ref('stg_advocacy__shares') }}
    where
        {% if is_incremental() -%}
        -- the shares of the rebuilt posts only, looked up in raw's index on the post (never in a full build: the
        -- array would hold every post, tested element by element against each share)
        post_id = any(array(select distinct post_urn from linkedin_post_nights))
        and
        {% endif -%}
        network = 'linkedin'

),

final as (

    select
        shares.share_id,
        linkedin_post_nights.post_urn,
        shares.network,
        linkedin_post_nights.logical_date as activity_date,
        linkedin_post_nights.logical_date - (shares.shared_at at time zone 'UTC')::date as days_since_share,
        {%- for metric in metrics %}
        linkedin_post_nights.{{ metric }}_delta as {{ metric }},
        {%- endfor %}
        linkedin_post_nights.built_at
    from linkedin_post_nights
    inner join shares on linkedin_post_nights.post_urn = shares.post_id

)

select * from final
