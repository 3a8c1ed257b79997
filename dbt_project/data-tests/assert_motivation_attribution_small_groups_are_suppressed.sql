-- k-anonymity (DESIGN §4): a group with fewer than var('k_anonymity') respondents carries no survey-derived
-- split — every attributed value on a motivation other than `unattributed` is 0.

select *
from {{ ref('motivation_attribution') }}
where respondents < {{ var('k_anonymity', 5) }}
    and motivation <> 'unattributed'
    and (attributed_shares <> 0 or attributed_impressions <> 0 or attributed_engagements <> 0 or attributed_clicks <> 0)
