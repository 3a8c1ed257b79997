-- Each complete response's motivation weights: a construct's normalised score over the sum of the response's
-- normalised scores, rounded to 6 decimals, with the largest weight absorbing the rounding so the weights sum to
-- exactly 1 (attributed parts then add up to the totals exactly). A respondent who scored 0 on everything gets
-- equal weights. A response is valid from its submission until the same employee's next complete response, so a
-- share is attributed to the profile its sharer had when sharing (point in time).

with

construct_scores as (

    select * from {{ ref('int_survey__construct_scores') }}

),

scored as (

    select
        *,
        count(*) over response_window as constructs,
        count(normalised_score) over response_window as constructs_scored,
        sum(normalised_score) over response_window as total_normalised_score
    from construct_scores
    window response_window as (partition by form_id, response_token)

),

complete as (

    -- a profile needs every construct: an unscored construct would silently get weight 0
    select * from scored
    where constructs_scored = constructs

),

unrounded as (

    select
        *,
        case
            when total_normalised_score = 0 then 1.0 / constructs
            else normalised_score / total_normalised_score
        end as exact_weight
    from complete

),

rounded as (

    select
        *,
        round(exact_weight, 6) as rounded_weight,
        row_number() over (
            partition by form_id, response_token
            order by exact_weight desc, construct
        ) as weight_rank
    from unrounded

),

balanced as (

    select
        *,
        case
            when weight_rank = 1
                then 1 - (sum(rounded_weight) over (partition by form_id, response_token) - rounded_weight)
            else rounded_weight
        end as weight
    from rounded

),

validity as (

    select
        form_id,
        response_token,
        submitted_at as valid_from,
        lead(submitted_at) over (partition by employee_id order by submitted_at, form_id, response_token) as valid_to
    from (select distinct form_id, response_token, employee_id, submitted_at from complete) as responses

),

final as (

    select
        balanced.form_id,
        balanced.response_token,
        balanced.employee_id,
        balanced.construct,
        balanced.normalised_score,
        balanced.weight::numeric(7, 6) as weight,
        validity.valid_from,
        validity.valid_to
    from balanced
    inner join validity
        on balanced.form_id = validity.form_id
        and balanced.response_token = validity.response_token

)

select * from final
