-- Each content piece's baseline on each network: the pooled engagement and click-through rates of all its shares
-- there that reached the outcome horizon, every sharer included. Outcomes are compared against it (lift, indices).
-- Kept apart from fct_shares because it changes for every share of the content whenever one more matures.

with

shares as (

    select * from {{ ref('fct_shares') }}
    where is_matured

),

final as (

    select
        content_id,
        network,
        count(*) as matured_shares,
        sum(horizon_impressions) as horizon_impressions,
        sum(horizon_engagements) as horizon_engagements,
        sum(horizon_clicks) as horizon_clicks,
        sum(horizon_engagements) / nullif(sum(horizon_impressions), 0)::double precision as engagement_rate,
        sum(horizon_clicks) / nullif(sum(horizon_impressions), 0)::double precision as click_through_rate
    from shares
    group by content_id, network

)

select * from final
