-- One row per share, with who made it (pseudonymous key, team at share time), what it achieved so far (the
-- latest LinkedIn counts) and what it achieved at the fixed outcome horizon (the counts at
-- var('outcome_horizon_days') after sharing), beside the same content's baseline rates on the same network.
-- Networks whose platform metrics are not collected have zero counts and never mature.

with

shares as (

    select * from {{ ref('stg_advocacy__shares') }}

),

linkedin_post_metrics as (

    select * from {{ ref('int_linkedin__post_metrics_latest') }}

),

linkedin_post_nights as (

    select * from {{ ref('int_linkedin__post_metrics_nightly') }}

),

roster_history as (

    select * from {{ ref('int_hr__roster_history') }}

),

at_horizon as (

    -- the first nightly reading at or after the horizon: with nightly loads, the counts at the horizon (to within a
    -- night); counters saturate within days, so a later first reading (a gap in the nights) changes them little
    select distinct on (shares.share_id)
        shares.share_id,
        linkedin_post_nights.impressions,
        linkedin_post_nights.members_reached,
        linkedin_post_nights.engagements,
        linkedin_post_nights.clicks,
        linkedin_post_nights.metrics_as_of
    from shares
    inner join linkedin_post_nights
        on shares.network = 'linkedin'
        and shares.post_id = linkedin_post_nights.post_urn
        and linkedin_post_nights.metrics_as_of
            >= shares.shared_at + interval '{{ var("outcome_horizon_days") }} days'
    order by shares.share_id, linkedin_post_nights.logical_date

),

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
        shares.shared_at,
        (shares.shared_at at time zone 'UTC')::date as share_date,
        date_trunc('month', shares.shared_at at time zone 'UTC')::date as share_month,
        shares.share_mode,
        shares.copy_edited,
        shares.campaign,
        shares.campaign is not null as is_nudged,
        shares.audience_size,
        coalesce(linkedin_post_metrics.impressions, 0) as impressions,
        coalesce(linkedin_post_metrics.members_reached, 0) as members_reached,
        coalesce(linkedin_post_metrics.engagements, 0) as engagements,
        coalesce(linkedin_post_metrics.clicks, 0) as clicks,
        linkedin_post_metrics.metrics_as_of,
        at_horizon.share_id is not null as is_matured,
        at_horizon.impressions as horizon_impressions,
        at_horizon.members_reached as horizon_members_reached,
        at_horizon.engagements as horizon_engagements,
        at_horizon.clicks as horizon_clicks,
        at_horizon.metrics_as_of as horizon_metrics_as_of
    from shares
    left join linkedin_post_metrics
        on shares.network = 'linkedin'
        and shares.post_id = linkedin_post_metrics.post_urn
    left join at_horizon on shares.share_id = at_horizon.share_id
    left join teams_at_share on shares.share_id = teams_at_share.share_id

),

final as (

    select
        *,
        -- the content's baseline on the network: pooled rates of its matured shares, every sharer included
        sum(horizon_engagements) over content_on_network
            / nullif(sum(horizon_impressions) over content_on_network, 0)::double precision
            as content_engagement_rate,
        sum(horizon_clicks) over content_on_network
            / nullif(sum(horizon_impressions) over content_on_network, 0)::double precision
            as content_click_through_rate
    from joined
    window content_on_network as (partition by content_id, network)

)

select * from final
