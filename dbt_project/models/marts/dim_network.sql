-- The networks shares were made to, and whether the warehouse collects platform metrics (impressions,
-- engagements, clicks) for them.

with

shares as (

    select * from {{ ref('stg_advocacy__shares') }}

),

final as (

    select
        network,
        network = 'linkedin' as has_platform_metrics,
        min(shared_at) as first_shared_at,
        count(*) as shares
    from shares
    group by network

)

select * from final
