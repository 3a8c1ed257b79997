-- The survey waves (one Typeform form each), numbered in the order they ran.

with

responses as (

    select * from {{ ref('stg_typeform__responses') }}

),

waves as (

    select
        form_id as wave,
        min(submitted_at) as first_submitted_at,
        max(submitted_at) as last_submitted_at,
        count(*) as responses
    from responses
    group by form_id

),

final as (

    select
        wave,
        row_number() over (order by first_submitted_at, wave)::integer as wave_number,
        first_submitted_at,
        last_submitted_at,
        responses
    from waves

)

select * from final
