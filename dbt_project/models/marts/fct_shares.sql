-- One row per share, with who made it (pseudonymous key, team at share time), what its post achieved so far (the
-- latest LinkedIn / X readings) and at the fixed outcome horizon (the counts at var('outcome_horizon_days') after
-- sharing), and its clicks reconciled: the platform-reported link clicks beside the tracking link's clicks (Bitly,
-- every source), with the gap and what explains it. Date axis: `share_date` (everything a share achieves is
-- booked on the day it was shared). Content baselines are in mart_content_baselines.
--
-- Tracking-link clicks: one link serves every share of an employee × content piece (both networks, repeated
-- shares), and Bitly counts per link and day, so a link's clicks of a day are credited to the link's latest share
-- made that day or before (exact sums: a link's clicks are split over its shares without loss).
--
-- Incremental (delete+insert on share_id): a build recomputes only the shares whose inputs changed since the last one
-- (minus var('incremental_lookback_hours')) — new shares (landed since); shares with post readings landed since (per
-- network); every share of a tracking link that got clicks landed since, a new share (the new share takes over the
-- link's later clicks) or a share a corrected export withdrew or changed (the link's clicks are credited anew); shares
-- whose team at share time changed (a roster correction reaching back, a move: of the sharers whose spans
-- int_hr__team_span_digests rewrote since); shares landed again since the last build (a corrected export replaces its
-- previous version's rows). Of these it writes only the shares that come out different from their built row (macro
-- equals_built_row). A share a corrected export withdrew is deleted before the build (pre-hook
-- withdraw_superseded_shares). Nothing else a share row holds can change, so a full refresh gives the same rows. How
-- many shares a link serves is fct_tracking_links': a count on each share's row would change every sibling's row with
-- each reshare.

{#- columns this model built once and no longer does: a table built before loses them in its next build (pre-hook) -#}
{%- set retired_columns = ['tracking_link_shares'] %}

{{
    config(
        materialized='incremental',
        unique_key='share_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['share_id'], 'unique': true},
            {'columns': ['post_id']},
            {'columns': ['employee_id']},
            {'columns': ['built_at']},
            {'columns': ['share_month']},
            {'columns': ['share_date']},
            {'columns': ['network', 'metrics_extracted_at']},
            {'columns': ['network', 'shared_at']},
            {'columns': ['tracking_link_clicks_extracted_at']},
        ],
        on_schema_change='fail',
        pre_hook=[
            "{{ withdraw_superseded_shares(this, ref('stg_advocacy__shares'), ref('stg_advocacy__superseded_shares')) }}",
            "{{ drop_retired_columns(this, " ~ (retired_columns | tojson) ~ ") }}",
        ],
        post_hook=["{{ ensure_indexes(this, model.config.indexes) }}", "analyze {{ this }}"],
    )
}}

{%- set lookback = "interval '" ~ var('incremental_lookback_hours') ~ " hours'" %}

{%- if is_incremental() %}
{#- What landed since the last build, minus the lookback, and the last build's time itself (what dbt writes upstream
    in the same build needs no lookback); an empty table (a first build before any share landed) takes everything.
    Read before the build and written in as constants: PostgreSQL then plans each "landed since" through the index
    on extraction time, where a subquery's value, unknown when planning, got it a scan of every row
    (bench/night.py's cost growth). Each maximum is read from its own index (a `max … filter` over the table would
    read every row). -#}
{%- set watermark_query %}
    select
        (coalesce((select max(metrics_extracted_at) from {{ this }} where network = 'linkedin'), '-infinity')
            - {{ lookback }})::text,
        (coalesce((select max(metrics_extracted_at) from {{ this }} where network = 'x'), '-infinity')
            - {{ lookback }})::text,
        (coalesce((select max(tracking_link_clicks_extracted_at) from {{ this }}), '-infinity') - {{ lookback }})::text,
        (last_build.built_at - {{ lookback }})::text,
        last_build.built_at::text
    from (select coalesce(max(built_at), '-infinity') as built_at from {{ this }}) as last_build
{%- endset %}
{%- set since = run_query(watermark_query).rows[0] if execute else ['-infinity'] * 5 %}
{%- set linkedin_readings_since, x_readings_since, link_clicks_since, shares_landed_since, built_since = since %}
{%- endif %}

with

-- inlined wherever it is read in an incremental build (`not materialized`): each read then takes only the shares
-- it needs through raw's indexes (share id, tracking link, extraction time) instead of all of them
all_shares as {% if is_incremental() %}not materialized {% endif %}(

    select * from {{ ref('stg_advocacy__shares') }}

),

post_readings as (

    select * from {{ ref('int_social__post_metrics_nightly') }}

),

link_clicks as (

    select * from {{ ref('stg_bitly__link_clicks') }}

),

roster_history as (

    select * from {{ ref('int_hr__roster_history') }}

),

team_span_digests as (

    select * from {{ ref('int_hr__team_span_digests') }}

),

{% if is_incremental() %}
---------- what changed since the last build

new_shares as (

    -- the shares landed since the last build (through raw's index on extraction time) that it has not built: a
    -- share the last build could not see yet landed after it started, or within the lookback (a load that
    -- committed while the build ran). Not an anti-join of every landed share: that reads all of raw each night
    select all_shares.share_id
    from all_shares
    where
        all_shares.extracted_at > '{{ shares_landed_since }}'::timestamptz
        and not exists (
            select from {{ this }} as built
            where built.share_id = all_shares.share_id
        )

),

changed_links as (

    select tracking_link from all_shares
    where share_id in (select share_id from new_shares)
    union
    select bitlink from link_clicks
    where extracted_at > '{{ link_clicks_since }}'::timestamptz
    union
    -- a share a corrected export withdrew or changed: the link's other shares count its shares and split its
    -- clicks anew
    select tracking_link from {{ ref('stg_advocacy__superseded_shares') }}
    where superseded_at > '{{ shares_landed_since }}'::timestamptz

),

changed_posts as (

    -- straight from the model, not the `post_readings` CTE (a CTE read twice is materialised whole), one network
    -- at a time: each reads the readings landed since through its nightly model's index on extracted_at
    select
        network,
        post_id
    from {{ ref('int_social__post_metrics_nightly') }}
    where
        network = 'linkedin'
        and extracted_at > '{{ linkedin_readings_since }}'::timestamptz
    union
    select
        network,
        post_id
    from {{ ref('int_social__post_metrics_nightly') }}
    where
        network = 'x'
        and extracted_at > '{{ x_readings_since }}'::timestamptz

),

moved_shares as (

    -- of the sharers whose team spans changed since the last build (through this table's index on employee_id),
    -- the shares whose team or department at share time is now another
    select built.share_id
    from {{ this }} as built
    left join roster_history
        on built.employee_id = roster_history.employee_id
        and built.shared_at >= roster_history.valid_from
        and (roster_history.valid_to is null or built.shared_at < roster_history.valid_to)
    where
        built.employee_id = any(array(
            -- no lookback: dbt writes the digests, upstream of this table in the same build, so those the last
            -- build wrote are older than its rows (a lookback re-read every sharer the last build rewrote)
            select employee_id from team_span_digests
            where built_at > '{{ built_since }}'::timestamptz
        ))
        and (
            coalesce(roster_history.team, 'unknown') is distinct from built.team
            or roster_history.department is distinct from built.department
        )

),

changed_shares as (

    select share_id from new_shares
    union
    select share_id from all_shares
    where tracking_link = any(array(select tracking_link from changed_links))
    union
    -- the built shares of those posts, through this table's index on the post (a new share is new_shares')
    select built.share_id
    from {{ this }} as built
    inner join changed_posts
        on built.network = changed_posts.network
        and built.post_id = changed_posts.post_id
    union
    select share_id from moved_shares
    union
    -- a share landed again since the last build: its export was corrected (ingestion/file_manifest.py)
    select share_id from all_shares
    where extracted_at > '{{ shares_landed_since }}'::timestamptz

),
{% endif %}

shares as (

    select * from all_shares
    {% if is_incremental() %}
    -- `= any(array(…))`, not `in (…)`: PostgreSQL cannot tell how few the changed shares are, and for `in` read
    -- every share; an array is looked up in the index. Small in an incremental build (what changed since the
    -- last one); never in a full build, where it would hold every share (see share_post_readings)
    where share_id = any(array(select share_id from changed_shares))
    {% endif %}

),

---------- platform-reported outcomes

share_post_readings as (

    select post_readings.*
    from post_readings
    where
        {% if is_incremental() -%}
        -- the array too, not the join alone: the nightly readings are a WITH view, which PostgreSQL does not
        -- flatten, so only a restriction reaches the nightly models' indexes on the post (instead of every
        -- reading). Never in a full build: there the array holds every share, and PostgreSQL tests each reading
        -- against it element by element (it hashes `= any` of constant arrays only), quadratic in the shares
        post_readings.post_id = any(array(select post_id from shares))
        and
        {% endif -%}
        (post_readings.network, post_readings.post_id) in (
            select
                network,
                post_id
            from shares
        )

),

latest as (

    -- counters are cumulative: the latest night is the best reading
    select distinct on (network, post_id) *
    from share_post_readings
    order by network asc, post_id asc, logical_date desc

),

at_horizon as (

    -- the first nightly reading at or after the horizon: with nightly loads, the counts at the horizon (to within a
    -- night); counters saturate within days, so a later first reading (a gap in the nights) changes them little
    select distinct on (shares.share_id)
        shares.share_id,
        share_post_readings.impressions,
        share_post_readings.members_reached,
        share_post_readings.engagements,
        share_post_readings.clicks,
        share_post_readings.metrics_as_of
    from shares
    inner join share_post_readings
        on shares.network = share_post_readings.network
        and shares.post_id = share_post_readings.post_id
        and share_post_readings.metrics_as_of
        >= shares.shared_at + interval '{{ var("outcome_horizon_days") }} days'
    order by shares.share_id, share_post_readings.logical_date

),

---------- tracking-link clicks (Bitly): a link's clicks of a day go to its latest share made that day or before

link_shares as (

    select
        share_id,
        tracking_link,
        (shared_at at time zone 'UTC')::date as share_date,
        lead((shared_at at time zone 'UTC')::date) over link_order as next_share_date
    from all_shares
    {% if is_incremental() -%}
    where tracking_link = any(array(select tracking_link from shares))
    {%- else -%}
    where tracking_link in (select tracking_link from shares)
    {%- endif %}
    window link_order as (partition by tracking_link order by shared_at, share_id)

),

tracked as (

    select
        link_shares.share_id,
        link_shares.next_share_date is not null as has_later_share,
        case when count(link_clicks.bitlink) > 0 then coalesce(sum(link_clicks.clicks) filter (
                    where link_clicks.click_date >= link_shares.share_date
                    and (link_shares.next_share_date is null or link_clicks.click_date < link_shares.next_share_date)
                ), 0)
        end as tracking_link_clicks,
        -- of the clicks credited to this share only: a click landed for a sibling's days leaves this row as it was
        max(link_clicks.extracted_at) filter (
            where link_clicks.click_date >= link_shares.share_date
            and (link_shares.next_share_date is null or link_clicks.click_date < link_shares.next_share_date)
        ) as tracking_link_clicks_extracted_at
    from link_shares
    left join link_clicks on link_shares.tracking_link = link_clicks.bitlink
    where link_shares.share_id in (select share_id from shares)
    group by link_shares.share_id, link_shares.next_share_date

),

---------- team at share time

teams_at_share as (

    select
        shares.share_id,
        roster_history.team,
        roster_history.department
    from shares
    inner join roster_history
        on shares.employee_id = roster_history.employee_id
        and shares.shared_at >= roster_history.valid_from
        and (roster_history.valid_to is null or shares.shared_at < roster_history.valid_to)

),

joined as (

    select
        shares.share_id,
        shares.employee_id,
        {{ employee_key('shares.employee_id') }} as employee_key,
        coalesce(teams_at_share.team, 'unknown') as team,
        teams_at_share.department,
        shares.content_id,
        shares.network,
        shares.post_id,
        shares.tracking_link,
        shares.shared_at,
        (shares.shared_at at time zone 'UTC')::date as share_date,
        date_trunc('month', shares.shared_at at time zone 'UTC')::date as share_month,
        shares.share_mode,
        shares.copy_edited,
        shares.campaign,
        shares.campaign is not null as is_nudged,
        shares.audience_size,
        coalesce(latest.impressions, 0) as impressions,
        -- unique reach only where the network reports it (LinkedIn)
        case when shares.network = 'linkedin' then coalesce(latest.members_reached, 0) end as members_reached,
        coalesce(latest.engagements, 0) as engagements,
        coalesce(latest.clicks, 0) as clicks,
        latest.click_source,
        latest.metrics_as_of,
        latest.extracted_at as metrics_extracted_at,
        tracked.tracking_link_clicks,
        tracked.has_later_share,
        tracked.tracking_link_clicks_extracted_at,
        at_horizon.share_id is not null as is_matured,
        at_horizon.impressions as horizon_impressions,
        at_horizon.members_reached as horizon_members_reached,
        at_horizon.engagements as horizon_engagements,
        at_horizon.clicks as horizon_clicks,
        at_horizon.metrics_as_of as horizon_metrics_as_of
    from shares
    left join latest
        on shares.network = latest.network
        and shares.post_id = latest.post_id
    left join at_horizon on shares.share_id = at_horizon.share_id
    left join tracked on shares.share_id = tracked.share_id
    left join teams_at_share on shares.share_id = teams_at_share.share_id

),

final as (

    select
        share_id,
        employee_id,
        employee_key,
        team,
        department,
        content_id,
        network,
        post_id,
        tracking_link,
        shared_at,
        share_date,
        share_month,
        share_mode,
        copy_edited,
        campaign,
        is_nudged,
        audience_size,
        impressions,
        members_reached,
        engagements,
        clicks,
        click_source,
        metrics_as_of,
        tracking_link_clicks,
        case when click_source is not null then tracking_link_clicks - clicks end as click_gap,
        case
            when click_source is null or tracking_link_clicks is null then null
            when tracking_link_clicks > clicks then 'tracking_link_counts_all_sources'
            when tracking_link_clicks = clicks then 'none'
            when has_later_share then 'later_share_of_the_link_took_its_clicks'
            else 'platform_counts_clicks_off_the_tracking_link'
        end as click_gap_source,
        is_matured,
        horizon_impressions,
        horizon_members_reached,
        horizon_engagements,
        horizon_clicks,
        horizon_metrics_as_of,
        metrics_extracted_at,
        tracking_link_clicks_extracted_at,
        {{ dbt.current_timestamp() }} as built_at
    from joined

)

select * from final
{% if is_incremental() -%}
-- a recomputed share that comes out as built keeps its row and its built_at, which then still says when the share
-- last changed: what reads the shares built since (the attribution, the month marts, the audit, the row tests)
-- skips it. Most recomputed shares come out the same: a reshare recomputes every share of its link, and only the
-- link's previous latest share can change (it gives the new share the link's later clicks).
where not {{ equals_built_row('final', 'share_id', retired=retired_columns) }}
{%- endif %}
