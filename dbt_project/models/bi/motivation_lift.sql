-- Lift of each motivation on engagement rate and click-through rate, against the same content's baseline on the
-- same network, at the fixed outcome horizon. Method (details in the model's docs):
--   1. Matured shares (a reading at var('outcome_horizon_days') after sharing) with impressions, of sharers who had
--      a survey profile then; x_1 … x_4 = their motivation weights (summing to 1).
--   2. Per network, weighted least squares without intercept of rate_s / content baseline_s on x (weights:
--      impressions × baseline, i.e. Poisson variance of the counts): a first estimate of the lifts.
--   3. Content effect α_c = Σ count / Σ (impressions × fitted lift mix) over the content's surveyed shares: the
--      content baseline once its sharers' motivation mix is accounted for (one alternating step of the
--      multiplicative fixed-effects model rate = α_content × Σ β_m x_m).
--   4. Per fit group (network or all networks × all shares, manual, scheduled, nudged, self-initiated) the same
--      regression on rate_s / α_c: β_m is the lift, the rate of a purely m-motivated sharer relative to the
--      content's baseline (1 = the baseline).
--   5. 95 % interval: β ± 1.96 × the cluster-robust standard error (clusters = sharers; G / (G − 1) correction).
-- A group with fewer than var('k_anonymity') respondents shows no survey-derived value; a fit that is not estimable
-- (no residual degrees of freedom once the content levels are fixed, or no more sharers than motivations for the
-- cluster-robust interval) shows no lift.

{%- set constructs = survey_constructs() %}
{%- set n = constructs | length %}
{#- (output name, horizon count column of fct_shares, baseline column of mart_content_baselines) #}
{%- set outcomes = [
    ('engagement_rate', 'horizon_engagements', 'engagement_rate'),
    ('click_through_rate', 'horizon_clicks', 'click_through_rate'),
] %}

with

shares as (

    select * from {{ ref('fct_shares') }}
    where is_matured and horizon_impressions > 0

),

share_weights as (

    select
        share_id,
        {%- for construct in constructs %}
        max(weight) filter (where motivation = '{{ construct }}') as x_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('fct_share_motivation_attribution') }}
    where motivation <> 'unattributed'
    group by share_id

),

surveyed_shares as (

    select
        shares.share_id,
        shares.employee_id,
        shares.content_id,
        shares.network,
        shares.share_mode,
        shares.is_nudged,
        shares.horizon_impressions::double precision as impressions,
        {%- for outcome, count, baseline in outcomes %}
        shares.{{ count }}::double precision as {{ outcome }}_count,
        content_baselines.{{ baseline }} as {{ outcome }}_baseline,
        {%- endfor %}
        {%- for i in range(1, n + 1) %}
        share_weights.x_{{ i }}::double precision as x_{{ i }}{{ "," if not loop.last }}
        {%- endfor %}
    from shares
    inner join share_weights on shares.share_id = share_weights.share_id
    left join {{ ref('mart_content_baselines') }} as content_baselines
        on shares.content_id = content_baselines.content_id
        and shares.network = content_baselines.network

),

---------- 2. first estimate per network, relative to the pooled content baseline

first_pass_rows as (

    select
        *,
        {%- for outcome, _, _ in outcomes %}
        coalesce(impressions * {{ outcome }}_baseline, 0) as {{ outcome }}_weight,
        coalesce({{ outcome }}_count / impressions / nullif({{ outcome }}_baseline, 0), 0) as {{ outcome }}_response
            {{- "," if not loop.last }}
        {%- endfor %}
    from surveyed_shares

),

first_pass_sums as (

    select
        network,
        {%- for outcome, _, _ in outcomes %}
        {{ wls_sums('first_' ~ outcome, n, outcome ~ '_weight', outcome ~ '_response') }}{{ "," if not loop.last }}
        {%- endfor %}
    from first_pass_rows
    group by network

),

first_pass_determinants as (

    select
        *,
        {%- for outcome, _, _ in outcomes %}
        {{ wls_determinant('first_' ~ outcome, n) }}{{ "," if not loop.last }}
        {%- endfor %}
    from first_pass_sums

),

first_pass_inverses as (

    select
        *,
        {%- for outcome, _, _ in outcomes %}
        {{ wls_inverse('first_' ~ outcome, n) }}{{ "," if not loop.last }}
        {%- endfor %}
    from first_pass_determinants

),

first_pass as (

    select
        network,
        {%- for outcome, _, _ in outcomes %}
        {{ wls_coefficients('first_' ~ outcome, n) }}{{ "," if not loop.last }}
        {%- endfor %}
    from first_pass_inverses

),

---------- 3. content effects given the first estimate

content_effects as (

    select
        surveyed_shares.content_id,
        surveyed_shares.network,
        {%- for outcome, _, _ in outcomes %}
        sum(surveyed_shares.{{ outcome }}_count)
            / nullif(sum(surveyed_shares.impressions * {{ wls_fitted('first_pass.first_' ~ outcome, n) }}), 0)
            as {{ outcome }}_content_effect{{ "," if not loop.last }}
        {%- endfor %}
    from surveyed_shares
    inner join first_pass on surveyed_shares.network = first_pass.network
    group by surveyed_shares.content_id, surveyed_shares.network

),

---------- 4. the lifts per fit group, relative to the content effects

fit_rows as (

    select
        fit_groups.fit_network,
        fit_groups.share_segment,
        surveyed_shares.employee_id,
        surveyed_shares.content_id,
        surveyed_shares.network,
        {%- for outcome, _, _ in outcomes %}
        coalesce(surveyed_shares.impressions * content_effects.{{ outcome }}_content_effect, 0) as {{ outcome }}_weight,
        coalesce(
            surveyed_shares.{{ outcome }}_count / surveyed_shares.impressions
                / nullif(content_effects.{{ outcome }}_content_effect, 0),
            0
        ) as {{ outcome }}_response,
        {%- endfor %}
        {%- for i in range(1, n + 1) %}
        surveyed_shares.x_{{ i }}{{ "," if not loop.last }}
        {%- endfor %}
    from surveyed_shares
    inner join content_effects
        on surveyed_shares.content_id = content_effects.content_id
        and surveyed_shares.network = content_effects.network
    cross join lateral (
        values
            (surveyed_shares.network, 'all'),
            (surveyed_shares.network, surveyed_shares.share_mode),
            (surveyed_shares.network, case when surveyed_shares.is_nudged then 'nudged' else 'self_initiated' end),
            ('all', 'all'),
            ('all', surveyed_shares.share_mode),
            ('all', case when surveyed_shares.is_nudged then 'nudged' else 'self_initiated' end)
    ) as fit_groups (fit_network, share_segment)

),

fit_sums as (

    select
        fit_network,
        share_segment,
        count(distinct employee_id) as respondents,
        count(*) as shares,
        count(distinct (content_id, network)) as content_levels,
        {%- for i in range(1, n + 1) %}
        sum(x_{{ i }}) as attributed_shares_{{ i }},
        {%- endfor %}
        {%- for outcome, _, _ in outcomes %}
        {{ wls_sums(outcome, n, outcome ~ '_weight', outcome ~ '_response') }}{{ "," if not loop.last }}
        {%- endfor %}
    from fit_rows
    group by fit_network, share_segment

),

fit_determinants as (

    select
        *,
        {%- for outcome, _, _ in outcomes %}
        {{ wls_determinant(outcome, n) }}{{ "," if not loop.last }}
        {%- endfor %}
    from fit_sums

),

fit_inverses as (

    select
        *,
        {%- for outcome, _, _ in outcomes %}
        {{ wls_inverse(outcome, n) }}{{ "," if not loop.last }}
        {%- endfor %}
    from fit_determinants

),

fits as (

    select
        *,
        {%- for outcome, _, _ in outcomes %}
        {{ wls_coefficients(outcome, n) }}{{ "," if not loop.last }}
        {%- endfor %}
    from fit_inverses

),

---------- 5. cluster-robust variances (clusters: sharers)

sharer_scores as (

    select
        fit_rows.fit_network,
        fit_rows.share_segment,
        fit_rows.employee_id,
        {%- for outcome, _, _ in outcomes %}
        {{ wls_cluster_scores(outcome, n, 'fit_rows.' ~ outcome ~ '_weight', 'fit_rows.' ~ outcome ~ '_response') }}
            {{- "," if not loop.last }}
        {%- endfor %}
    from fit_rows
    inner join fits
        on fit_rows.fit_network = fits.fit_network
        and fit_rows.share_segment = fits.share_segment
    group by fit_rows.fit_network, fit_rows.share_segment, fit_rows.employee_id

),

meats as (

    select
        fit_network,
        share_segment,
        {%- for outcome, _, _ in outcomes %}
        {{ wls_meat(outcome, n) }}{{ "," if not loop.last }}
        {%- endfor %}
    from sharer_scores
    group by fit_network, share_segment

),

variances as (

    select
        fits.*,
        {%- for outcome, _, _ in outcomes %}
        {{ wls_variances(outcome, n, 'fits.respondents') }}{{ "," if not loop.last }}
        {%- endfor %}
    from fits
    inner join meats
        on fits.fit_network = meats.fit_network
        and fits.share_segment = meats.share_segment

),

---------- one row per fit group × motivation

lifts as (

    select
        variances.fit_network as network,
        variances.share_segment,
        motivations.motivation,
        variances.respondents,
        variances.shares,
        variances.respondents < {{ var('k_anonymity') }} as is_suppressed,
        variances.shares > variances.content_levels + {{ n }} and variances.respondents > {{ n }} as is_estimable,
        case motivations.construct_number
            {%- for i in range(1, n + 1) %}
            when {{ i }} then variances.attributed_shares_{{ i }}
            {%- endfor %}
        end as attributed_shares,
        {%- for outcome, _, _ in outcomes %}
        case motivations.construct_number
            {%- for i in range(1, n + 1) %}
            when {{ i }} then variances.{{ outcome }}_beta_{{ i }}
            {%- endfor %}
        end as {{ outcome }}_lift,
        case motivations.construct_number
            {%- for i in range(1, n + 1) %}
            when {{ i }} then 1.96 * sqrt(greatest(variances.{{ outcome }}_variance_{{ i }}, 0))
            {%- endfor %}
        end as {{ outcome }}_margin{{ "," if not loop.last }}
        {%- endfor %}
    from variances
    cross join (
        values
            {%- for construct in constructs %}
            ('{{ construct }}', {{ loop.index }}){{ "," if not loop.last }}
            {%- endfor %}
    ) as motivations (motivation, construct_number)

),

final as (

    select
        network::text as network,
        share_segment::text as share_segment,
        motivation::text as motivation,
        respondents::integer as respondents,
        shares::integer as shares,
        {{ var('outcome_horizon_days') }}::integer as outcome_horizon_days,
        is_suppressed,
        case when not is_suppressed then round(attributed_shares::numeric, 6) end as attributed_shares,
        {%- for outcome, _, _ in outcomes %}
        case when not is_suppressed and is_estimable then round({{ outcome }}_lift::numeric, 4) end
            as {{ outcome }}_lift,
        case when not is_suppressed and is_estimable then round(({{ outcome }}_lift - {{ outcome }}_margin)::numeric, 4) end
            as {{ outcome }}_lift_lower,
        case when not is_suppressed and is_estimable then round(({{ outcome }}_lift + {{ outcome }}_margin)::numeric, 4) end
            as {{ outcome }}_lift_upper{{ "," if not loop.last }}
        {%- endfor %}
    from lifts

)

select * from final
