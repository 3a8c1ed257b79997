-- Per month × team × network (of sharing): the share counts behind bi.advocacy_kpis and bi.monthly_totals — sharers,
-- shares, the three kinds of reach apart, engagements, clicks, and the tracking links' clicks with the gap. Sums are
-- null where no share of the group has the count (a network without platform metrics), as over the shares.
--
-- Incremental by month (delete+insert on `month`, as every model of marts/months: dbt_project.yml): a build rebuilds
-- whole the months whose shares changed since its last build (macro share_month_to_rebuild), so the `bi` models read a
-- few rows per month instead of every share.

{{ config(indexes=[{'columns': ['month', 'team', 'network'], 'unique': true}]) }}

with

shares as (

    select * from {{ ref('fct_shares') }}
    where {{ share_month_to_rebuild('share_month', inputs=['fct_shares']) }}

),

final as (

    select
        share_month as month,
        team,
        network,
        count(distinct employee_id) as sharers,
        count(*) as shares,
        sum(audience_size) as potential_reach,
        sum(impressions) as impressions,
        sum(members_reached) as members_reached,
        sum(engagements) as engagements,
        sum(clicks) as clicks,
        sum(tracking_link_clicks) as tracking_link_clicks,
        sum(click_gap) as click_gap,
        -- whether every share short of the platform's count is short because a later share took its link's clicks
        coalesce(
            bool_and(click_gap_source = 'later_share_of_the_link_took_its_clicks') filter (where click_gap < 0),
            false
        ) as shortfalls_are_later_shares,
        {{ dbt.current_timestamp() }} as built_at
    from shares
    group by share_month, team, network

)

select * from final
