-- Consent coverage: of the employees who shared to a network in a month, how many had a usable token of their own
-- (member post analytics and X non-public metrics are read with each member's token, so the month's figures cover
-- these sharers' posts in full and the others' only partly: LinkedIn not at all, X public metrics only). The counts
-- per month are marts.mart_month_network_consent's; months with no status snapshot of the network are not
-- measured (coverage null).

select
    consent.month,
    consent.network,
    consent.sharers,
    consent.sharers_with_valid_token,
    consent.sharers_expiring,
    consent.sharers_revoked,
    consent.sharers_without_consent,
    case
        when consent.status_as_of is null then null
        else round(consent.sharers_with_valid_token::numeric / consent.sharers, 4)
    end as consent_coverage,
    consent.status_as_of,
    months.is_complete,
    months.days_covered
from {{ ref('mart_month_network_consent') }} as consent
left join {{ ref('dim_month') }} as months on consent.month = months.month
