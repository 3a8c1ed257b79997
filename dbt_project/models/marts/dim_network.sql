-- The networks shares were made to, and which platform metrics the warehouse collects for them (impressions,
-- engagements, clicks on LinkedIn and X; unique reach on LinkedIn only).

with

shares as (

    select * from {{ ref('stg_advocacy__shares') }}

),

final as (

    select
        network,
        network in ('linkedin', 'x') as has_platform_metrics,
        network = 'linkedin' as reports_unique_reach,
        min(shared_at) as first_shared_at,
        count(*) as shares
    from shares
    group by network

)

select * from final
