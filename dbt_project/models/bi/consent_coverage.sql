-- Consent coverage: of the employees who shared to a network in a month, how many had a usable token of their own
-- (member post analytics and X non-public metrics are read with each member's token, so the month's figures cover
-- these sharers' posts in full and the others' only partly: LinkedIn not at all, X public metrics only).
-- A sharer's status is the one of the month's last night with a status snapshot; months with no snapshot of the
-- network are not measured (coverage null), sharers with no token that month count as without consent.

with

sharers as (

    select distinct
        share_month as month,
        network,
        employee_id
    from {{ ref('fct_shares') }}
    where network in ('linkedin', 'x')

),

statuses as (

    select
        employee_id,
        network,
        status,
        logical_date,
        date_trunc('month', logical_date)::date as month
    from {{ ref('stg_consent__member_token_status') }}

),

measured_months as (

    select
        network,
        month,
        max(logical_date) as last_night
    from statuses
    group by 1, 2

),

sharer_status as (

    select distinct on (sharers.month, sharers.network, sharers.employee_id)
        sharers.month,
        sharers.network,
        sharers.employee_id,
        statuses.status
    from sharers
    left join statuses
        on sharers.employee_id = statuses.employee_id
        and sharers.network = statuses.network
        and sharers.month = statuses.month
    order by sharers.month asc, sharers.network asc, sharers.employee_id asc, statuses.logical_date desc nulls last

),

aggregated as (

    select
        month,
        network,
        count(*)::integer as sharers,
        (count(*) filter (where status in ('valid', 'expiring')))::integer as sharers_with_valid_token,
        (count(*) filter (where status = 'expiring'))::integer as sharers_expiring,
        (count(*) filter (where status = 'revoked'))::integer as sharers_revoked,
        (count(*) filter (where status = 'needs_consent' or status is null))::integer as sharers_without_consent
    from sharer_status
    group by 1, 2

)

select
    aggregated.month,
    aggregated.network,
    aggregated.sharers,
    aggregated.sharers_with_valid_token,
    aggregated.sharers_expiring,
    aggregated.sharers_revoked,
    aggregated.sharers_without_consent,
    case
        when measured_months.last_night is null then null
        else round(aggregated.sharers_with_valid_token::numeric / aggregated.sharers, 4)
    end as consent_coverage,
    measured_months.last_night as status_as_of,
    months.is_complete,
    months.days_covered
from aggregated
left join measured_months
    on aggregated.network = measured_months.network
    and aggregated.month = measured_months.month
left join {{ ref('dim_month') }} as months on aggregated.month = months.month
