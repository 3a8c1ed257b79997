-- Every answer of every vendor's responses, by the instrument's question ref: Typeform's `field.ref` and
-- SurveyMonkey's `variable_id` are the ref; Qualtrics' question ids (`QID1`…) are mapped to it by the seed
-- `survey_instrument`. Questions without a ref (not part of the instrument) are left out.

with

typeform as (

    select
        'typeform' as source,
        response_token as response_id,
        question_ref,
        form_id as survey_id,
        answer_number
    from {{ ref('stg_typeform__answers') }}

),

surveymonkey as (

    select
        'surveymonkey' as source,
        response_id,
        question_ref,
        survey_id,
        answer_number
    from {{ ref('stg_surveymonkey__answers') }}
    where question_ref is not null

),

qualtrics as (

    select
        'qualtrics' as source,
        answers.response_id,
        instrument.question_ref,
        answers.survey_id,
        answers.answer_number
    from {{ ref('stg_qualtrics__answers') }} as answers
    inner join {{ ref('survey_instrument') }} as instrument
        on answers.question_id = instrument.qualtrics_question_id

),

final as (

    select * from typeform
    union all
    select * from surveymonkey
    union all
    select * from qualtrics

)

select * from final
