-- Everyone the sources mention: on an HR roster, sharing, or answering the survey. Keyed by a pseudonymous key;
-- no e-mail address or social handle. Team, department and location are the latest roster's.

with

roster_history as (

    select * from {{ ref('int_hr__roster_history') }}

),

employee_ids as (

    select employee_id from roster_history
    union
    -- the sharers: every share is in fct_shares (built before this), read through its index on employee_id
    select employee_id from ({{ distinct_values(ref('fct_shares'), 'employee_id') }}) as sharers
    union
    select employee_id from {{ ref('int_survey__responses') }}
    where employee_id is not null

),

latest_span as (

    select distinct on (employee_id) *
    from roster_history
    order by employee_id asc, valid_from desc

),

final as (

    select
        {{ employee_key('employee_ids.employee_id') }} as employee_key,
        employee_ids.employee_id,
        coalesce(latest_span.team, 'unknown') as team,
        latest_span.department,
        latest_span.location,
        latest_span.start_date,
        coalesce(latest_span.is_current, false) as is_on_current_roster
    from employee_ids
    left join latest_span on employee_ids.employee_id = latest_span.employee_id

)

select * from final
