-- One row per content piece shared: its title and type as the shares export gives them (there is no content
-- catalogue source; the export's `content_title` and `content_type` columns are optional, and exports older than
-- them lack both). The describing share is the piece's latest share that has a type, else its latest share that
-- has a title, else its latest share (no title, no type); ties go to the later landed, then the greater share id.
--
-- Incremental by piece (delete+insert on content_id): the describing share is a maximum over the piece's shares,
-- so a build compares each piece's describing share with the shares landed since its last build (minus
-- var('incremental_lookback_hours'); reading one again changes nothing) instead of reading every share. A maximum
-- can only fall when its share leaves: the pre-hook deletes the pieces whose describing share a corrected export
-- replaced since, and those pieces are described again from all their landed shares — a scan of raw's shares on
-- the nights a correction lands, none on the others (the scan is gated on there being such a piece). A piece left
-- without any share then has no row.

{{
    config(
        materialized='incremental',
        unique_key='content_id',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['content_id'], 'unique': true}],
        on_schema_change='fail',
        pre_hook=[
            "{{ withdraw_superseded_shares(this, none, ref('stg_advocacy__superseded_shares')) }}",
        ],
        post_hook=["{{ ensure_indexes(this, model.config.indexes) }}"],
    )
}}

{%- set share_columns = ['content_id', 'share_id', 'content_title', 'content_type', 'shared_at', 'extracted_at'] %}
{%- set incremental = builds_on_built_at(this) | trim == 'true' %}
{%- if incremental %}
{#- the last build's time minus the lookback, read before the query (a constant plans as the index range it is) -#}
{%- set since = newest_built_at(this) %}
{%- set lookback = "interval '" ~ var('incremental_lookback_hours') ~ " hours'" %}
{%- endif %}

with

shares as {% if incremental %}not materialized {% endif %}(

    select {{ share_columns | join(', ') }}
    from {{ ref('stg_advocacy__shares') }}

),

superseded_shares as (

    select * from {{ ref('stg_advocacy__superseded_shares') }}

),

{% if incremental %}
described_again as (

    -- pieces a correction touched whose row the pre-hook deleted (their describing share was replaced)
    select distinct superseded_shares.content_id
    from superseded_shares
    where
        superseded_shares.superseded_at > ('{{ since }}'::timestamptz - {{ lookback }})
        and not exists (
            select from {{ this }} as built
            where built.content_id = superseded_shares.content_id
        )

),

landed as (

    -- through raw's index on extraction time
    select * from shares
    where extracted_at > '{{ since }}'::timestamptz - {{ lookback }}
    union all
    -- every share of the pieces described again: only evaluated when there is one (a one-time filter)
    select * from shares
    where
        exists (select from described_again)
        and content_id in (select content_id from described_again)

),

candidates as (

    select * from landed
    union all
    select {{ share_columns | join(', ') }}
    from {{ this }}
    where content_id in (select content_id from landed)

),
{% else %}
candidates as (

    select * from shares

),
{% endif %}

final as (

    select distinct on (content_id)
        content_id,
        content_title,
        content_type,
        share_id,
        shared_at,
        extracted_at,
        {{ dbt.current_timestamp() }} as built_at
    from candidates
    order by
        content_id asc,
        (content_type is not null) desc,
        (content_type is not null or content_title is not null) desc,
        shared_at desc,
        extracted_at desc,
        share_id desc

)

select * from final
