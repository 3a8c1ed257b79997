-- Per month × network (of sharing; LinkedIn and X): the employees who shared to the network in the month, by the
-- latest status of their own member token recorded in the month — what bi.consent_coverage shows. A sharer with
-- no status that month counts as without consent; status_as_of is the month's last night that recorded statuses,
-- null when none did (not measured).
--
-- Incremental by month (delete+insert on `month`, as every model of marts/months: dbt_project.yml): a build rebuilds
-- whole the months whose shares changed since its last build and those with token statuses landed since (macro
-- share_month_to_rebuild; the attribution is no input of this mart, so a survey response re-splitting a sharer's shares
-- rebuilds no month here).

{{ config(indexes=[{'columns': ['month', 'network'], 'unique': true}]) }}

{%- set status_month = "date_trunc('month', logical_date)::date" %}
{%- set statuses_landed = [
    {'relation': ref('stg_consent__member_token_status'), 'month': status_month, 'at': 'extracted_at'},
] %}

with

sharers as (

    select distinct
        share_month as month,
        network,
        employee_id
    from {{ ref('fct_shares') }}
    where
        network in ('linkedin', 'x')
        and {{ share_month_to_rebuild('share_month', inputs=['fct_shares'], also_changed_in=statuses_landed) }}

),

statuses as (

    select
        employee_id,
        network,
        status,
        logical_date,
        {{ status_month }} as month
    from {{ ref('stg_consent__member_token_status') }}
    where {{ share_month_to_rebuild(status_month, inputs=['fct_shares'], also_changed_in=statuses_landed) }}

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

    -- the sharer's status on the month's last night with a status of theirs
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

final as (

    select
        sharer_status.month,
        sharer_status.network,
        count(*)::integer as sharers,
        (count(*) filter (where sharer_status.status in ('valid', 'expiring')))::integer as sharers_with_valid_token,
        (count(*) filter (where sharer_status.status = 'expiring'))::integer as sharers_expiring,
        (count(*) filter (where sharer_status.status = 'revoked'))::integer as sharers_revoked,
        (count(*) filter (where sharer_status.status = 'needs_consent' or sharer_status.status is null))::integer
            as sharers_without_consent,
        measured_months.last_night as status_as_of,
        {{ dbt.current_timestamp() }} as built_at
    from sharer_status
    left join measured_months
        on sharer_status.network = measured_months.network
        and sharer_status.month = measured_months.month
    group by sharer_status.month, sharer_status.network, measured_months.last_night

)

select * from final
