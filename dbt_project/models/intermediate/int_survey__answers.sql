-- Every answer of every vendor's responses, keyed by the vendor's item key and mapped onto the instrument by the
-- seed `survey_instrument`: (source, survey_id, item_key) → construct, reverse coding, scale, where a row for the
-- concrete survey wins over the vendor's `*` row. Item keys: Typeform `field.ref`, SurveyMonkey question id,
-- Qualtrics QID. SurveyMonkey answers are choice positions (1 = the first choice), put on the item's scale as
-- scale_min + position − 1. An item the seed does not map keeps a null construct; a survey whose mapped items leave
-- a construct without any item fails the build, naming the survey and its unmapped item keys (post-hook).

{{ config(post_hook="{{ assert_survey_items_mapped(this) }}") }}

with

instrument as (

    select * from {{ ref('survey_instrument') }}

),

typeform as (

    select
        'typeform' as source,
        form_id as survey_id,
        response_token as response_id,
        question_ref as item_key,
        answer_number,
        null::integer as answer_position
    from {{ ref('stg_typeform__answers') }}
    where question_ref is not null

),

surveymonkey as (

    select
        'surveymonkey' as source,
        survey_id,
        response_id,
        question_id as item_key,
        null::numeric as answer_number,
        answer_position
    from {{ ref('stg_surveymonkey__answers') }}

),

qualtrics as (

    select
        'qualtrics' as source,
        survey_id,
        response_id,
        question_id as item_key,
        answer_number,
        null::integer as answer_position
    from {{ ref('stg_qualtrics__answers') }}

),

answers as (

    select * from typeform
    union all
    select * from surveymonkey
    union all
    select * from qualtrics

),

mapped as (

    select
        answers.*,
        -- the concrete survey's row wins over the vendor's `*` row
        case when for_survey.item_key is not null then for_survey.construct else for_vendor.construct end
            as construct,
        case when for_survey.item_key is not null then for_survey.reverse_coded else for_vendor.reverse_coded end
            as reverse_coded,
        case when for_survey.item_key is not null then for_survey.scale_min else for_vendor.scale_min end
            as scale_min,
        case when for_survey.item_key is not null then for_survey.scale_max else for_vendor.scale_max end
            as scale_max
    from answers
    left join instrument as for_survey
        on answers.source = for_survey.source
        and answers.survey_id = for_survey.survey_id
        and answers.item_key = for_survey.item_key
    left join instrument as for_vendor
        on answers.source = for_vendor.source
        and for_vendor.survey_id = '*'
        and answers.item_key = for_vendor.item_key

),

final as (

    select
        source,
        response_id,
        survey_id,
        item_key,
        construct,
        reverse_coded,
        scale_min,
        scale_max,
        case
            when source = 'surveymonkey' then scale_min + answer_position - 1
            else answer_number
        end as answer_number,
        construct is not null as is_mapped
    from mapped

)

select * from final
