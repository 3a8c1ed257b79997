-- Per team × month: the behaviour that suggests sharing out of obligation rather than conviction, each signal
-- beside the measure behind it, and a flag when enough signals are raised (thresholds: var('obligation_signals')).
-- The survey-based signal (share of the team's surveyed shares attributed to `obligated`) is shown only for at
-- least var('k_anonymity') respondents; when suppressed it is null and does not count. A team × month with fewer
-- than var('signal_min_shares') shares is `is_low_volume`: its measures and signals are shown, but it is never
-- flagged (a handful of shares makes every rate swing).

{%- set thresholds = var('obligation_signals') %}

with

behaviour as (

    select * from {{ ref('mart_team_month_behaviour') }}

),

months as (

    select * from {{ ref('dim_month') }}

),

measures as (

    select
        month,
        team,
        shares,
        sharers,
        respondents,
        respondents < {{ var('k_anonymity') }} as is_suppressed,
        round(scheduled_shares::numeric / shares, 4) as scheduled_share_rate,
        round(unedited_shares::numeric / shares, 4) as unedited_share_rate,
        round(nudged_shares::numeric / shares, 4) as nudged_share_rate,
        matured_shares,
        round((horizon_engagements / nullif(expected_engagements, 0))::numeric, 4) as engagement_rate_index,
        case
            when respondents >= {{ var('k_anonymity') }}
                then round((obligated_attributed_shares / nullif(surveyed_shares, 0))::numeric, 4)
        end as obligated_share
    from behaviour

),

signals as (

    select
        *,
        scheduled_share_rate >= {{ thresholds['scheduled_share_rate_at_least'] }} as high_scheduled_sharing,
        unedited_share_rate >= {{ thresholds['unedited_share_rate_at_least'] }} as high_unedited_sharing,
        nudged_share_rate >= {{ thresholds['nudged_share_rate_at_least'] }} as high_nudged_sharing,
        engagement_rate_index <= {{ thresholds['engagement_rate_index_at_most'] }} as low_engagement,
        obligated_share >= {{ thresholds['obligated_share_at_least'] }} as high_obligated_share
    from measures

),

final as (

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
        high_scheduled_sharing,
        high_unedited_sharing,
        high_nudged_sharing,
        low_engagement,
        high_obligated_share,
        (
            coalesce(high_scheduled_sharing::integer, 0) + coalesce(high_unedited_sharing::integer, 0)
            + coalesce(high_nudged_sharing::integer, 0) + coalesce(low_engagement::integer, 0)
            + coalesce(high_obligated_share::integer, 0)
        )::integer as signals_raised,
        shares < {{ var('signal_min_shares') }} as is_low_volume
    from signals

)

select
    final.*,
    final.signals_raised >= {{ thresholds['min_signals'] }} and not final.is_low_volume as is_flagged,
    months.is_complete,
    months.days_covered
from final
left join months on final.month = months.month
