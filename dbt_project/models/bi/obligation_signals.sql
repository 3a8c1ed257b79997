-- Per team × month: the behaviour that suggests sharing out of obligation rather than conviction, each signal
-- beside the measure behind it, and a flag when enough signals are raised (thresholds: var('obligation_signals')).
-- The survey-based signal (share of the team's surveyed shares attributed to `obligated`) is shown only for at
-- least var('k_anonymity') respondents; when suppressed it is null and does not count. A team × month with fewer
-- than var('signal_min_shares') shares is `is_low_volume`: its measures and signals are shown, but it is never
-- flagged (a handful of shares makes every rate swing). The shape shared with salesy_risk:
-- macros/team_month_signals.sql.

{%- set thresholds = var('obligation_signals') %}

with

behaviour as (

    select * from {{ ref('mart_team_month_behaviour') }}

),

measures as (

    select
        month,
        team,
        shares,
        sharers,
        respondents,
        {{ team_month_is_suppressed() }} as is_suppressed,
        round(scheduled_shares::numeric / shares, 4) as scheduled_share_rate,
        round(unedited_shares::numeric / shares, 4) as unedited_share_rate,
        round(nudged_shares::numeric / shares, 4) as nudged_share_rate,
        matured_shares,
        round((horizon_engagements / nullif(expected_engagements, 0))::numeric, 4) as engagement_rate_index,
        {{ team_month_survey_share('obligated') }} as obligated_share
    from behaviour

),

signals as (

    select
        month::date as month,
        team::text as team,
        shares::integer as shares,
        sharers::integer as sharers,
        respondents::integer as respondents,
        is_suppressed,
        scheduled_share_rate,
        unedited_share_rate,
        nudged_share_rate,
        matured_shares::integer as matured_shares,
        engagement_rate_index,
        obligated_share,
        scheduled_share_rate >= {{ thresholds['scheduled_share_rate_at_least'] }} as high_scheduled_sharing,
        unedited_share_rate >= {{ thresholds['unedited_share_rate_at_least'] }} as high_unedited_sharing,
        nudged_share_rate >= {{ thresholds['nudged_share_rate_at_least'] }} as high_nudged_sharing,
        engagement_rate_index <= {{ thresholds['engagement_rate_index_at_most'] }} as low_engagement,
        obligated_share >= {{ thresholds['obligated_share_at_least'] }} as high_obligated_share
    from measures

),

{{ team_month_flag(
    'signals',
    [
        'high_scheduled_sharing', 'high_unedited_sharing', 'high_nudged_sharing', 'low_engagement',
        'high_obligated_share',
    ],
    thresholds,
    'is_flagged'
) }}
