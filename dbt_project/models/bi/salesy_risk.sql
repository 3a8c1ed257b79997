-- Per team × month: where educational sharing risks sounding salesy — links pushed at an audience that does not
-- engage: impressions without engagement, clicks high against engagement relative to what the same content gets
-- elsewhere, from a team whose surveyed shares lean to `educate`. Each signal sits beside its measure; a team ×
-- month is at risk when enough are raised (thresholds: var('salesy_risk')). The survey-based signal is shown only
-- for at least var('k_anonymity') respondents; suppressed, it is null and does not count. The sources report no
-- negative feedback (hidden posts, unfollows), so none is used. A team × month with fewer than
-- var('signal_min_shares') shares is `is_low_volume`: its measures and signals are shown, but it is never at risk.
-- The shape shared with obligation_signals: macros/team_month_signals.sql.

{%- set thresholds = var('salesy_risk') %}

with

behaviour as (

    select * from {{ ref('mart_team_month_behaviour') }}

),

measures as (

    select
        month,
        team,
        shares,
        matured_shares,
        respondents,
        {{ team_month_is_suppressed() }} as is_suppressed,
        horizon_impressions,
        horizon_engagements,
        horizon_clicks,
        round(horizon_impressions::numeric / nullif(horizon_engagements, 0), 1) as impressions_per_engagement,
        horizon_engagements / nullif(expected_engagements, 0) as engagement_rate_index,
        horizon_clicks / nullif(expected_clicks, 0) as click_through_rate_index,
        {{ team_month_survey_share('educate') }} as educate_share
    from behaviour

),

signals as (

    select
        *,
        click_through_rate_index / nullif(engagement_rate_index, 0) as clicks_per_engagement_index
    from measures

),

flagged as (

    select
        month::date as month,
        team::text as team,
        shares::integer as shares,
        matured_shares::integer as matured_shares,
        respondents::integer as respondents,
        is_suppressed,
        horizon_impressions::bigint as horizon_impressions,
        horizon_engagements::bigint as horizon_engagements,
        horizon_clicks::bigint as horizon_clicks,
        impressions_per_engagement,
        round(engagement_rate_index::numeric, 4) as engagement_rate_index,
        round(click_through_rate_index::numeric, 4) as click_through_rate_index,
        round(clicks_per_engagement_index::numeric, 4) as clicks_per_engagement_index,
        educate_share,
        educate_share >= {{ thresholds['educate_share_at_least'] }} as high_educate_share,
        engagement_rate_index <= {{ thresholds['engagement_rate_index_at_most'] }} as low_engagement,
        clicks_per_engagement_index >= {{ thresholds['clicks_per_engagement_index_at_least'] }} as link_pushing
    from signals

),

{{ team_month_flag('flagged', ['high_educate_share', 'low_engagement', 'link_pushing'], thresholds, 'is_at_risk') }}
