-- The survey waves, numbered in the order they ran. A wave can run on several vendors at once (int_survey__waves).

with

responses as (

    select * from {{ ref('int_survey__responses') }}

),

waves as (

    select
        wave,
        min(submitted_at) as first_submitted_at,
        max(submitted_at) as last_submitted_at,
        count(*) as responses,
        count(distinct employee_id) as respondents,
        string_agg(distinct source, ', ' order by source) as sources
    from responses
    group by wave

),

final as (

    select
        wave,
        row_number() over (order by first_submitted_at, wave)::integer as wave_number,
        first_submitted_at,
        last_submitted_at,
        responses,
        respondents,
        sources
    from waves

)

select * from final
