-- One row per question of each response's latest version. The instrument's items are single-choice questions:
-- the first (only) answer's choice text, e.g. `4 - Agree` (`simple=true`), gives the scale point by its leading
-- number. A question's `variable_id` is the instrument's question ref.

with

source as (

    select * from {{ source('surveymonkey', 'responses') }}

),

latest_versions as (

    select distinct on (survey_id, response_id) survey_id, response_id, payload
    from source
    order by survey_id, response_id, date_modified desc

),

questions as (

    select
        latest_versions.survey_id,
        latest_versions.response_id,
        question
    from latest_versions
    cross join lateral jsonb_array_elements(coalesce(latest_versions.payload -> 'pages', '[]'::jsonb)) as pages (page)
    cross join lateral jsonb_array_elements(coalesce(pages.page -> 'questions', '[]'::jsonb)) as questions (question)

),

renamed as (

    select

        ---------- ids
        survey_id,
        response_id,
        question ->> 'id' as question_id,
        nullif(question ->> 'variable_id', '') as question_ref,
        question -> 'answers' -> 0 ->> 'choice_id' as choice_id,

        ---------- properties
        question ->> 'family' as question_family,
        question -> 'answers' -> 0 ->> 'simple_text' as choice_text,

        ---------- numerics
        jsonb_array_length(coalesce(question -> 'answers', '[]'::jsonb)) as answers_given,
        substring(question -> 'answers' -> 0 ->> 'simple_text' from '^\s*(\d+)')::numeric as answer_number

    from questions

)

select * from renamed
