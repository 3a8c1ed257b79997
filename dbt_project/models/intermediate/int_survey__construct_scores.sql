-- Each response's score on each construct of the survey instrument, whichever vendor it came through: the mean of
-- the construct's items, with reverse-coded items flipped, and that mean normalised to [0, 1] on the items' scale.
-- Every response gets a row for every construct; a construct none of whose items was answered scores null.

with

responses as (

    select * from {{ ref('int_survey__responses') }}
    -- a response that cannot be linked to an employee cannot be linked to shares
    where employee_id is not null

),

answers as (

    -- construct, reverse coding and scale come with each answer: the instrument row its survey's item mapped to
    select * from {{ ref('int_survey__answers') }}
    where answer_number is not null and construct is not null

),

constructs as (

    select distinct construct from {{ ref('survey_instrument') }}

),

item_scores as (

    select
        source,
        response_id,
        construct,
        case
            when reverse_coded then scale_min + scale_max - answer_number
            else answer_number
        end as item_score,
        scale_min,
        scale_max
    from answers

),

scored as (

    select
        source,
        response_id,
        construct,
        count(*) as items_answered,
        -- exact numerics; trim_scale only drops trailing zeros (1.5, not 1.5000000000000000)
        trim_scale(avg(item_score)) as mean_score,
        -- normalised per item, so items on different scales still average on one [0, 1] scale
        trim_scale(avg((item_score - scale_min) / (scale_max - scale_min))) as normalised_score
    from item_scores
    group by source, response_id, construct

),

final as (

    select
        responses.source,
        responses.response_id,
        responses.survey_id,
        responses.wave,
        responses.employee_id,
        responses.submitted_at,
        responses.source_precedence,
        constructs.construct,
        coalesce(scored.items_answered, 0) as items_answered,
        scored.mean_score,
        scored.normalised_score
    from responses
    cross join constructs
    left join scored
        on responses.source = scored.source
        and responses.response_id = scored.response_id
        and constructs.construct = scored.construct

)

select * from final
