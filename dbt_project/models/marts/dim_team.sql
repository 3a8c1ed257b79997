-- The teams of the HR rosters (their latest department and current headcount), plus `unknown` for sharers who are
-- on no roster.

with

roster_history as (

    select * from {{ ref('int_hr__roster_history') }}

),

teams as (

    select distinct on (team)
        team,
        department
    from roster_history
    order by team asc, valid_from desc

),

headcount as (

    select
        team,
        count(*) as current_headcount
    from roster_history
    where is_current
    group by team

),

final as (

    select
        teams.team,
        teams.department,
        coalesce(headcount.current_headcount, 0) as current_headcount
    from teams
    left join headcount on teams.team = headcount.team
    union all
    select
        'unknown',
        null,
        0

)

select * from final
