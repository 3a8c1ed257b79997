-- One row per response × question: every `values` entry named like a question id (`QID1`, `QID12`; not `QID1_TEXT`
-- or embedded data), with its numeric value (the scale point of a Likert item). The seed `survey_instrument` maps
-- (survey, question id) to a construct: each survey orders its QIDs its own way.

with

source as (

    select * from {{ source('qualtrics', 'responses') }}

),

answers as (

    select
        source.survey_id,
        source.response_id,
        answer_values.question_id,
        answer_values.value
    from source
    cross join
        lateral jsonb_each(coalesce(source.payload -> 'values', '{}'::jsonb)) as answer_values (question_id, value)
    where answer_values.question_id ~ '^QID[0-9]+$'

),

renamed as (

    select

        ---------- ids
        survey_id,
        response_id,
        question_id,

        ---------- numerics
        case
            when jsonb_typeof(value) = 'number' then (value #>> '{}')::numeric
            when jsonb_typeof(value) = 'string' and (value #>> '{}') ~ '^\s*-?[0-9]+(\.[0-9]+)?\s*$'
                then (value #>> '{}')::numeric
        end as answer_number

    from answers

)

select * from renamed
