-- One row per question of each response's latest version. A bulk answer names its question by id and its answer by
-- `choice_id` only (`simple_text` is the choice's label, which need not hold a number): the choice's position in
-- the survey's catalogue (`/details`, stg_surveymonkey__survey_choices) is the scale point answered, 1 for the
-- first choice. An answer whose choice is not in the catalogue keeps a null position.

with

source as (

    select * from {{ source('surveymonkey', 'responses') }}

),

choices as (

    select * from {{ ref('stg_surveymonkey__survey_choices') }}

),

latest_versions as (

    select distinct on (survey_id, response_id)
        survey_id,
        response_id,
        payload
    from source
    order by survey_id asc, response_id asc, date_modified desc

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
        question -> 'answers' -> 0 ->> 'choice_id' as choice_id,

        ---------- properties
        question -> 'answers' -> 0 ->> 'simple_text' as choice_text,

        ---------- numerics
        jsonb_array_length(coalesce(question -> 'answers', '[]'::jsonb)) as answers_given

    from questions

),

final as (

    select
        renamed.*,
        choices.question_family,
        case when not choices.is_not_applicable then choices.choice_position end as answer_position
    from renamed
    left join choices
        on renamed.survey_id = choices.survey_id
        and renamed.question_id = choices.question_id
        and renamed.choice_id = choices.choice_id

)

select * from final
