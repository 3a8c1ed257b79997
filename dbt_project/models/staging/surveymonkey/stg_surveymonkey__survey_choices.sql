-- One row per choice of each question of each survey's catalogue (`/details`), in the survey's latest version: the
-- choice's position is the scale point it stands for (1 = the first choice), its text only a label.

with

source as (

    select * from {{ source('surveymonkey', 'survey_details') }}

),

latest_versions as (

    select distinct on (survey_id)
        survey_id,
        date_modified,
        payload,
        _load_id,
        _extracted_at
    from source
    order by survey_id asc, date_modified desc, _extracted_at desc

),

questions as (

    select
        latest_versions.survey_id,
        latest_versions.date_modified,
        latest_versions._load_id,
        question
    from latest_versions
    cross join lateral jsonb_array_elements(coalesce(latest_versions.payload -> 'pages', '[]'::jsonb)) as pages (page)
    cross join lateral jsonb_array_elements(coalesce(pages.page -> 'questions', '[]'::jsonb)) as questions (question)

),

choices as (

    select
        questions.survey_id,
        questions.date_modified,
        questions._load_id,
        questions.question,
        choice
    from questions
    cross join lateral jsonb_array_elements(
        coalesce(questions.question -> 'answers' -> 'choices', '[]'::jsonb)
    ) as choices (choice)

),

renamed as (

    select

        ---------- ids
        survey_id,
        question ->> 'id' as question_id,
        choice ->> 'id' as choice_id,

        ---------- properties
        question ->> 'family' as question_family,
        question ->> 'subtype' as question_subtype,
        question -> 'headings' -> 0 ->> 'heading' as question_heading,
        choice ->> 'text' as choice_text,

        ---------- numerics
        (question ->> 'position')::integer as question_position,
        (choice ->> 'position')::integer as choice_position,

        ---------- booleans
        coalesce((choice ->> 'is_na')::boolean, false) as is_not_applicable,

        ---------- timestamps
        date_modified as survey_modified_at,

        ---------- load metadata
        _load_id as load_id

    from choices

)

select * from renamed
