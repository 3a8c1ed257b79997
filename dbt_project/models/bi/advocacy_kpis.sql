-- Per month × team × network: participation (sharers / enrolled), shares, the three kinds of reach side by side
-- (potential reach, impressions, unique members reached: never added together), engagements, clicks, and their
-- earned media value next to the raw counts; the tracking links' clicks (Bitly, every source) beside the platform's,
-- with the gap. Axis: the month the shares were made in; counts are the latest observed, and null (not 0) on a
-- network whose platform metrics (or unique reach) are not collected. Teams are the sharers' teams when sharing;
-- every team on a roster that month has a row for every network shared to that month, so a team that did not share
-- shows participation 0.

with

share_totals as (

    -- per month × team × network, kept by month (incremental): a few rows a month, not every share
    select * from {{ ref('mart_month_team_network_shares') }}

),

roster_history as (

    select * from {{ ref('int_hr__roster_history') }}

),

emv_unit_values as (

    select * from {{ ref('emv_unit_values') }}

),

networks as (

    select * from {{ ref('dim_network') }}

),

months as (

    select * from {{ ref('dim_month') }}

),

months_networks as (

    select distinct
        month,
        network
    from share_totals

),

enrolled as (

    -- employees in the team at any time during the month (a mover counts in both teams)
    select
        months.month,
        roster_history.team,
        count(distinct roster_history.employee_id) as enrolled
    from (select distinct month from months_networks) as months
    inner join roster_history
        on roster_history.valid_from < (months.month + interval '1 month')::timestamp at time zone 'UTC'
        and (roster_history.valid_to is null or roster_history.valid_to > months.month::timestamp at time zone 'UTC')
    group by months.month, roster_history.team

),

grid as (

    select
        months_networks.month,
        months_networks.network,
        enrolled.team
    from months_networks
    inner join enrolled on months_networks.month = enrolled.month
    union
    select
        month,
        network,
        team
    from share_totals

),

emv_versions as (

    -- the version valid on the month's first day, per network
    select distinct on (grid.month, grid.network)
        grid.month,
        grid.network,
        emv_unit_values.version
    from (
        select distinct
            month,
            network
        from grid
    ) as grid
    inner join emv_unit_values
        on grid.network = emv_unit_values.network
        and grid.month >= emv_unit_values.valid_from
    order by grid.month asc, grid.network asc, emv_unit_values.valid_from desc

),

emv_parameters as (

    select
        emv_versions.month,
        emv_versions.network,
        emv_versions.version,
        max(emv_unit_values.currency) as currency,
        max(emv_unit_values.unit_value) filter (where emv_unit_values.metric = 'impression') as per_impression,
        max(emv_unit_values.unit_value) filter (where emv_unit_values.metric = 'engagement') as per_engagement,
        max(emv_unit_values.unit_value) filter (where emv_unit_values.metric = 'click') as per_click
    from emv_versions
    inner join emv_unit_values
        on emv_versions.network = emv_unit_values.network
        and emv_versions.version = emv_unit_values.version
    group by emv_versions.month, emv_versions.network, emv_versions.version

),

final as (

    select
        grid.month::date as month,
        grid.team::text as team,
        grid.network::text as network,
        coalesce(enrolled.enrolled, 0)::integer as enrolled,
        coalesce(share_totals.sharers, 0)::integer as sharers,
        round(coalesce(share_totals.sharers, 0)::numeric / nullif(enrolled.enrolled, 0), 4) as participation_rate,
        coalesce(share_totals.shares, 0)::bigint as shares,
        coalesce(share_totals.potential_reach, 0)::bigint as potential_reach,
        {%- for count in ['impressions', 'members_reached', 'engagements', 'clicks'] %}
        {%- set collected = 'networks.reports_unique_reach' if count == 'members_reached'
            else 'networks.has_platform_metrics' %}
        case when {{ collected }} then coalesce(share_totals.{{ count }}, 0) end::bigint as {{ count }},
        {%- endfor %}
        case when networks.has_platform_metrics then round(
                    coalesce(share_totals.impressions, 0) * emv_parameters.per_impression
                    + coalesce(share_totals.engagements, 0) * emv_parameters.per_engagement
                    + coalesce(share_totals.clicks, 0) * emv_parameters.per_click,
                    2
                )
        end as earned_media_value,
        emv_parameters.currency::text as emv_currency,
        emv_parameters.version::text as emv_version,
        share_totals.tracking_link_clicks::bigint as tracking_link_clicks,
        share_totals.click_gap::bigint as click_gap,
        case
            when share_totals.click_gap > 0 then 'tracking_link_counts_all_sources'
            when share_totals.click_gap = 0 then 'none'
            when share_totals.shortfalls_are_later_shares then 'later_share_of_the_link_took_its_clicks'
            when share_totals.click_gap < 0 then 'platform_counts_clicks_off_the_tracking_link'
        end::text as click_gap_source,
        months.is_complete,
        months.days_covered
    from grid
    inner join networks on grid.network = networks.network
    left join months on grid.month = months.month
    left join enrolled on grid.month = enrolled.month and grid.team = enrolled.team
    left join share_totals
        on grid.month = share_totals.month
        and grid.team = share_totals.team
        and grid.network = share_totals.network
    left join emv_parameters on grid.month = emv_parameters.month and grid.network = emv_parameters.network

)

select * from final
