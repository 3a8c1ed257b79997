-- The networks shares were made to, and which platform metrics the warehouse collects for them (impressions,
-- engagements, clicks on LinkedIn and X; unique reach on LinkedIn only). Shares are pooled from the month × team ×
-- network rows of mart_month_team_network_shares, and each network's first share is read from fct_shares' index on
-- (network, shared_at): a few rows per month and one index probe per network, instead of every share.

with

share_totals as (

    select * from {{ ref('mart_month_team_network_shares') }}

),

shares as (

    select * from {{ ref('fct_shares') }}

),

networks as (

    select
        network,
        sum(shares)::bigint as shares
    from share_totals
    group by network

),

final as (

    select
        network,
        network in ('linkedin', 'x') as has_platform_metrics,
        network = 'linkedin' as reports_unique_reach,
        (
            select min(shares.shared_at) from shares
            where shares.network = networks.network
        ) as first_shared_at,
        shares
    from networks

)

select * from final
