-- Team membership over time (SCD2) derived from the nightly HR rosters, which `raw` keeps in full: a span starts
-- when an employee first appears, comes back after being absent from a roster, or changes team, department,
-- manager or location; it ends on the first roster that shows the change or no longer lists the employee.
-- Derived, not snapshotted: the rosters are history already, so the spans rebuild identically on every run, for
-- any backfill order, and take their dates from the roster nights rather than from when dbt happened to run.
-- An employee's first span is taken back to the start date: a move before the first roster landed is invisible.

with

roster as (

    select * from {{ ref('stg_hr__roster') }}

),

roster_nights as (

    select
        roster_date,
        lag(roster_date) over (order by roster_date) as previous_roster_date,
        lead(roster_date) over (order by roster_date) as next_roster_date
    from (select distinct roster_date from roster) as nights

),

nights_with_previous as (

    select
        roster.*,
        roster_nights.previous_roster_date,
        roster_nights.next_roster_date,
        lag(roster.roster_date) over employee_nights as employee_previous_roster_date,
        lag(row(roster.team, roster.department, roster.manager_id, roster.location)::text) over employee_nights
            as employee_previous_assignment
    from roster
    inner join roster_nights on roster.roster_date = roster_nights.roster_date
    window employee_nights as (partition by roster.employee_id order by roster.roster_date)

),

span_starts as (

    select
        *,
        case
            when employee_previous_roster_date is null then true
            -- absent from the roster night before: a new span even if nothing else changed
            -- (parenthesised: sqlfluff's parser does not read `when … is distinct from …` bare)
            when (employee_previous_roster_date is distinct from previous_roster_date) then true
            else (row(team, department, manager_id, location)::text is distinct from employee_previous_assignment)
        end as starts_span
    from nights_with_previous

),

numbered as (

    select
        *,
        sum(case when starts_span then 1 else 0 end) over (
            partition by employee_id order by roster_date rows unbounded preceding
        ) as span_number
    from span_starts

),

spans as (

    select
        employee_id,
        span_number,
        min(team) as team,
        min(department) as department,
        min(manager_id) as manager_id,
        min(location) as location,
        min(start_date) as start_date,
        min(roster_date) as first_roster_date,
        max(roster_date) as last_roster_date,
        -- the first roster after the span's last one: it shows the change, or the employee's absence
        (array_agg(next_roster_date order by roster_date desc))[1] as ended_on
    from numbered
    group by employee_id, span_number

),

final as (

    select
        employee_id,
        team,
        department,
        manager_id,
        location,
        start_date,
        first_roster_date,
        last_roster_date,
        case
            when span_number = 1 then least(start_date, first_roster_date)
            else first_roster_date
        end::timestamp at time zone 'UTC' as valid_from,
        ended_on::timestamp at time zone 'UTC' as valid_to,
        ended_on is null as is_current
    from spans

)

select * from final
