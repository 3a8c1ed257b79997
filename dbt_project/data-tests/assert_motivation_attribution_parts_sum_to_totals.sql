-- Σ over motivations of attributed_X == X for every month × network group, exactly (numeric, no tolerance),
-- and the group totals are the same on each of its motivation rows.

select
    month,
    network,
    max(shares) as shares,
    sum(attributed_shares) as attributed_shares,
    max(impressions) as impressions,
    sum(attributed_impressions) as attributed_impressions,
    max(engagements) as engagements,
    sum(attributed_engagements) as attributed_engagements,
    max(clicks) as clicks,
    sum(attributed_clicks) as attributed_clicks
from {{ ref('motivation_attribution') }}
group by month, network
having
    sum(attributed_shares) <> max(shares)
    or sum(attributed_impressions) <> max(impressions)
    or sum(attributed_engagements) <> max(engagements)
    or sum(attributed_clicks) <> max(clicks)
    or min(shares) <> max(shares)
    or min(impressions) <> max(impressions)
    or min(engagements) <> max(engagements)
    or min(clicks) <> max(clicks)
    or min(respondents) <> max(respondents)
