-- Every survey response of every vendor, in one shape: (source, response_id), the vendor survey and its wave, the
-- respondent and when they submitted. Typeform's response key is its token. All vendors are kept here, duplicates
-- included (the demo tenant relays one wave through all three); int_survey__motivation_weights keeps one profile
-- per employee × wave.

{%- set precedence = var('survey_source_precedence') %}

with

responses as (

    select
        'typeform' as source,
        form_id as survey_id,
        response_token as response_id,
        employee_id,
        landed_at as started_at,
        submitted_at,
        extracted_at
    from {{ ref('stg_typeform__responses') }}

    union all

    select
        'surveymonkey',
        survey_id,
        response_id,
        employee_id,
        started_at,
        submitted_at,
        extracted_at
    from {{ ref('stg_surveymonkey__responses') }}

    union all

    select
        'qualtrics',
        qualtrics.survey_id,
        qualtrics.response_id,
        -- by the link the survey is configured to use (external data reference, embedded field or e-mail)
        respondents.employee_id,
        qualtrics.started_at,
        qualtrics.submitted_at,
        qualtrics.extracted_at
    from {{ ref('stg_qualtrics__responses') }} as qualtrics
    inner join {{ ref('int_qualtrics__respondents') }} as respondents
        on qualtrics.survey_id = respondents.survey_id
        and qualtrics.response_id = respondents.response_id

),

final as (

    select
        responses.source,
        responses.response_id,
        responses.survey_id,
        waves.wave,
        responses.employee_id,
        responses.started_at,
        responses.submitted_at,
        -- 1 for the vendor that wins a tie on submission time (var survey_source_precedence)
        array_position(
            array['{{ precedence | join("', '") }}']::text[],  -- noqa: LT05
            responses.source
        ) as source_precedence,
        responses.extracted_at
    from responses
    inner join {{ ref('int_survey__waves') }} as waves
        on responses.source = waves.source
        and responses.survey_id = waves.survey_id

)

select * from final
