-- Lift of each motivation on engagement rate and click-through rate, against the same content's baseline on the
-- same network, at the fixed outcome horizon. Method (details in the model's docs):
--   1. Matured shares (a reading at var('outcome_horizon_days') after sharing) with impressions, of sharers who had
--      a survey profile then; each share takes its sharer's primary motivation at share time (the largest weight
--      of that profile). No extrapolation: a lift compares shares that exist.
--   2. Per fit group (network or all networks × all shares, manual, scheduled, nudged, self-initiated), a Poisson
--      log-link model count_s ~ impressions_s × α_(content, network) × β_(primary motivation), fitted by maximum
--      likelihood: alternating exact updates of α and β on the cell sums (content × network × motivation), which
--      are the model's sufficient statistics, for var('lift_fit_iterations') rounds. β is scaled so that the
--      baseline (1.0) is the rate a content gets from its average surveyed sharer.
--   3. 95 % interval: percentile interval of a cluster bootstrap over sharers (var('lift_bootstrap_replicates')
--      Poisson-weighted replicates: each sharer's shares enter a replicate w times, w ~ Poisson(1), drawn from a
--      hash of the replicate and the sharer, so a rebuild gives the same interval).
-- Shown only where a person cannot be singled out and the data identify the lift; `lift_note` says why otherwise.
--
-- PostgreSQL estimates every CTE of the fit at one row and would join them in nested loops (minutes instead of
-- seconds at the demo's size): hash joins only, for this model's transaction.

{{ config(pre_hook="set local enable_nestloop = off") }}

{%- set constructs = var('motivation_constructs') %}
{%- set k = var('k_anonymity') %}
{%- set replicates = var('lift_bootstrap_replicates') %}
{%- set iterations = var('lift_fit_iterations') %}
{%- set rates = ['engagement_rate', 'click_through_rate'] %}
{%- set group_keys = 'replicate, group_id' %}

with

shares as (

    select * from {{ ref('fct_shares') }}
    where is_matured and horizon_impressions > 0

),

primary_motivations as (

    -- the profile's largest weight; a tie goes to the construct first in alphabetical order
    select distinct on (share_id)
        share_id,
        motivation
    from {{ ref('fct_share_motivation_attribution') }}
    where motivation <> 'unattributed'
    order by share_id asc, weight desc, motivation asc

),

surveyed_shares as (

    select
        shares.share_id,
        shares.employee_id,
        shares.content_id,
        shares.network,
        shares.share_mode,
        shares.is_nudged,
        primary_motivations.motivation,
        -- a rate's exposure counts only the shares whose count is known: an X post read with the app's token (its
        -- author gave no consent) has impressions but no link clicks, and must not pass for a post without clicks
        case when shares.horizon_engagements is not null then shares.horizon_impressions end::double precision
            as engagement_rate_exposure,
        case when shares.horizon_clicks is not null then shares.horizon_impressions end::double precision
            as click_through_rate_exposure,
        shares.horizon_engagements::double precision as engagement_rate_count,
        shares.horizon_clicks::double precision as click_through_rate_count
    from shares
    inner join primary_motivations on shares.share_id = primary_motivations.share_id

),

---------- 1. every share in each of its fit groups, summed per sharer × content level × motivation

sharer_cells as (

    select
        fit_groups.fit_network,
        fit_groups.share_segment,
        surveyed_shares.employee_id,
        surveyed_shares.content_id,
        surveyed_shares.network,
        surveyed_shares.motivation,
        count(*) as shares,
    {%- for rate in rates %}
    sum(surveyed_shares.{{ rate }}_exposure) as {{ rate }}_exposure,
    sum(surveyed_shares.{{ rate }}_count) as {{ rate }}_count{{ "," if not loop.last }}
    {%- endfor %}
    from surveyed_shares
    cross join
        lateral (
            values
            (surveyed_shares.network, 'all'),
            (surveyed_shares.network, surveyed_shares.share_mode),
            (surveyed_shares.network, case when surveyed_shares.is_nudged then 'nudged' else 'self_initiated' end),
            ('all', 'all'),
            ('all', surveyed_shares.share_mode),
            ('all', case when surveyed_shares.is_nudged then 'nudged' else 'self_initiated' end)
        ) as fit_groups (fit_network, share_segment)
    group by 1, 2, 3, 4, 5, 6

),

sharers as (

    select distinct employee_id from surveyed_shares

),

numbered_cells as (

    -- integer keys for the fit's many joins: group (network × segment), content level, motivation
    select
        *,
        dense_rank() over (order by fit_network, share_segment)::integer as group_id,
        dense_rank() over (order by content_id, network)::integer as level_id,
        dense_rank() over (order by motivation)::integer as motivation_id
    from sharer_cells

),

replicate_draws as (

    -- a uniform draw in [0, 1) per replicate × sharer, from a hash (52 bits), so a rebuild draws the same
    select
        replicates.replicate,
        sharers.employee_id,
        ((hashtextextended(replicates.replicate || ':' || sharers.employee_id, 0) >> 11) & 4503599627370495)
        ::double precision / 4503599627370496.0 as draw
    from generate_series(1, {{ replicates }}) as replicates (replicate)
    cross join sharers

),

replicate_weights as (

    -- replicate 0 is the data itself; the others weigh each sharer by a Poisson(1) draw (inverse of its CDF)
    select
        0 as replicate,
        employee_id,
        1 as weight
    from sharers
    union all
    select
        replicate,
        employee_id,
        case
            when draw < 0.367879 then 0
            when draw < 0.735759 then 1
            when draw < 0.919699 then 2
            when draw < 0.981012 then 3
            when draw < 0.996340 then 4
            when draw < 0.999406 then 5
            when draw < 0.999917 then 6
            else 7
        end
    from replicate_draws

),

cells as materialized (

    select
        replicate_weights.replicate,
        numbered_cells.group_id,
        numbered_cells.level_id,
        numbered_cells.motivation_id,
    {%- for rate in rates %}
    sum(replicate_weights.weight * numbered_cells.{{ rate }}_exposure) as {{ rate }}_exposure,
    sum(replicate_weights.weight * numbered_cells.{{ rate }}_count) as {{ rate }}_count{{ "," if not loop.last }}
    {%- endfor %}
    from numbered_cells
    inner join replicate_weights on numbered_cells.employee_id = replicate_weights.employee_id
    where replicate_weights.weight > 0
    group by 1, 2, 3, 4

),

---------- 2. the Poisson fit: α (content levels) and β (motivations) updated in turn. The data (replicate 0) start
----------    from β = 1 for var('lift_fit_iterations') rounds; the bootstrap replicates, small perturbations of it,
----------    start from its β and take var('lift_bootstrap_rounds') rounds.

point_cells as (

    select * from cells
    where replicate = 0

),

replicate_cells as (

    select * from cells
    where replicate > 0

),

point_beta_0 as (

    select distinct
        {{ group_keys }},
        motivation_id,
    {%- for rate in rates %}
    1.0::double precision as {{ rate }}_beta{{ "," if not loop.last }}
    {%- endfor %}
    from point_cells

),
{#- (pass, its cells, its rounds) #}
{%- set passes = [
    ('point', 'point_cells', iterations),
    ('replicate', 'replicate_cells', var('lift_bootstrap_rounds')),
] %}
{%- for pass, pass_cells, rounds in passes %}
{%- if pass == 'replicate' %}

replicate_beta_0 as (

    select
        replicates.replicate,
        point.group_id,
        point.motivation_id,
    {%- for rate in rates %}
    point.{{ rate }}_beta{{ "," if not loop.last }}
    {%- endfor %}
    from point_beta_{{ iterations }} as point
    cross join (select distinct replicate from replicate_cells) as replicates

),
{%- endif %}
{%- for i in range(1, rounds + 1) %}

{{ pass }}_alpha_{{ i }} as materialized (

    {{ poisson_update('alpha', pass_cells, pass ~ '_beta_' ~ (i - 1), rates) }}

),

{{ pass }}_beta_{{ i }} as materialized (

    {{ poisson_update('beta', pass_cells, pass ~ '_alpha_' ~ i, rates) }}

),
{%- endfor %}
{%- endfor %}

fitted_beta as (

    select * from point_beta_{{ iterations }}
    union all
    select * from replicate_beta_{{ var('lift_bootstrap_rounds') }}

),

final_alpha as (

    {{ poisson_update('alpha', 'cells', 'fitted_beta', rates) }}

),

baselines as (

    -- the β of the average surveyed share: expected counts at β over expected counts at β = 1
    select
        cells.replicate,
        cells.group_id,
    {%- for rate in rates %}
    sum(cells.{{ rate }}_exposure * alpha.{{ rate }}_alpha * beta.{{ rate }}_beta)
    / nullif(sum(cells.{{ rate }}_exposure * alpha.{{ rate }}_alpha), 0)
        as {{ rate }}_baseline{{ "," if not loop.last }}
    {%- endfor %}
    from cells
    inner join final_alpha as alpha using ({{ group_keys }}, level_id)
    inner join fitted_beta as beta using ({{ group_keys }}, motivation_id)
    group by cells.replicate, cells.group_id

),

lifts as (

    select
        beta.replicate,
        groups.fit_network,
        groups.share_segment,
        motivations.motivation,
    {%- for rate in rates %}
    beta.{{ rate }}_beta / nullif(baselines.{{ rate }}_baseline, 0) as {{ rate }}_lift,
    -- how far the data's last round still moved the estimate (relative): the fit's convergence
    abs(beta.{{ rate }}_beta / nullif(previous.{{ rate }}_beta, 0) - 1) as {{ rate }}_last_change
    {{- "," if not loop.last }}
    {%- endfor %}
    from fitted_beta as beta
    inner join baselines using ({{ group_keys }})
    left join point_beta_{{ iterations - 1 }} as previous using ({{ group_keys }}, motivation_id)
    inner join (
        select distinct
            group_id,
            fit_network,
            share_segment
        from numbered_cells
    ) as groups
        on beta.group_id = groups.group_id
    inner join (
        select distinct
            motivation_id,
            motivation
        from numbered_cells
    ) as motivations
        on beta.motivation_id = motivations.motivation_id

),

---------- 3. the estimate (replicate 0) and its bootstrap interval

intervals as (

    select
        fit_network,
        share_segment,
        motivation,
    {%- for rate in rates %}
    percentile_cont(0.025) within group (order by {{ rate }}_lift) as {{ rate }}_lift_lower,
    percentile_cont(0.975) within group (order by {{ rate }}_lift) as {{ rate }}_lift_upper
    {{- "," if not loop.last }}
    {%- endfor %}
    from lifts
    where replicate > 0
    group by fit_network, share_segment, motivation

),

---------- what the data behind each group and motivation are

group_sizes as (

    select
        fit_network,
        share_segment,
        count(distinct employee_id) as respondents,
        sum(shares) as shares
    from sharer_cells
    group by fit_network, share_segment

),

motivation_sizes as (

    select
        fit_network,
        share_segment,
        motivation,
        count(distinct employee_id) as motivation_sharers,
        sum(shares) as motivation_shares
    from sharer_cells
    group by fit_network, share_segment, motivation

),

content_levels as (

    select
        fit_network,
        share_segment,
        content_id,
        network,
        count(distinct motivation) as motivations
    from sharer_cells
    group by fit_network, share_segment, content_id, network

),

compared_shares as (

    -- shares of the motivation on a content level that sharers of another motivation shared too: only these
    -- say anything about the motivation against the content's baseline
    select
        sharer_cells.fit_network,
        sharer_cells.share_segment,
        sharer_cells.motivation,
        sum(sharer_cells.shares) as compared_shares
    from sharer_cells
    inner join content_levels using (fit_network, share_segment, content_id, network)
    where content_levels.motivations > 1
    group by sharer_cells.fit_network, sharer_cells.share_segment, sharer_cells.motivation

),

rows_ as (

    select
        group_sizes.fit_network as network,
        group_sizes.share_segment,
        motivations.motivation,
        group_sizes.respondents,
        group_sizes.shares,
        coalesce(motivation_sizes.motivation_sharers, 0) as motivation_sharers,
        coalesce(motivation_sizes.motivation_shares, 0) as motivation_shares,
        coalesce(compared_shares.compared_shares, 0) as compared_shares,
        {%- for rate in rates %}
        estimate.{{ rate }}_lift,
        estimate.{{ rate }}_last_change,
        intervals.{{ rate }}_lift_lower,
        intervals.{{ rate }}_lift_upper,
        {%- endfor %}
        case
            when group_sizes.respondents < {{ k }}
                then 'suppressed: fewer than {{ k }} respondents in the group'
            when coalesce(motivation_sizes.motivation_sharers, 0) = 0
                then 'no shares by sharers of this primary motivation'
            when motivation_sizes.motivation_sharers < {{ k }}
                then 'suppressed: fewer than {{ k }} sharers of this primary motivation'
            when coalesce(compared_shares.compared_shares, 0) = 0
                then 'not estimable: no content was shared both by sharers of this and of another motivation'
            when compared_shares.compared_shares < {{ var('lift_min_compared_shares') }}
                then 'not estimable: too few shares to compare (' || compared_shares.compared_shares
                    || ' on content that sharers of another motivation shared too, fewer than '
                    || {{ var('lift_min_compared_shares') }} || ')'
            {%- for rate in rates %}
            when estimate.{{ rate }}_last_change > 0.001 or estimate.{{ rate }}_lift is null
                then 'not estimable: the fit did not converge'
            {%- endfor %}
        end as lift_note
    from group_sizes
    cross join (
        values
        {%- for construct in constructs %}
        ('{{ construct }}'){{ "," if not loop.last }}
        {%- endfor %}
    ) as motivations (motivation)
    left join motivation_sizes
        on group_sizes.fit_network = motivation_sizes.fit_network
        and group_sizes.share_segment = motivation_sizes.share_segment
        and motivations.motivation = motivation_sizes.motivation
    left join compared_shares
        on group_sizes.fit_network = compared_shares.fit_network
        and group_sizes.share_segment = compared_shares.share_segment
        and motivations.motivation = compared_shares.motivation
    left join lifts as estimate
        on estimate.replicate = 0
        and group_sizes.fit_network = estimate.fit_network
        and group_sizes.share_segment = estimate.share_segment
        and motivations.motivation = estimate.motivation
    left join intervals
        on group_sizes.fit_network = intervals.fit_network
        and group_sizes.share_segment = intervals.share_segment
        and motivations.motivation = intervals.motivation

),

final as (

    select
        network::text as network,
        share_segment::text as share_segment,
        motivation::text as motivation,
        respondents::integer as respondents,
        shares::integer as shares,
        {{ var('outcome_horizon_days') }}::integer as outcome_horizon_days,
        respondents < {{ k }} as is_suppressed,
        case when motivation_sharers >= {{ k }} and respondents >= {{ k }} then motivation_sharers end::integer
            as motivation_sharers,
        case when motivation_sharers >= {{ k }} and respondents >= {{ k }} then motivation_shares end::integer
            as motivation_shares,
        {%- for rate in rates %}
        case when lift_note is null then round({{ rate }}_lift::numeric, 4) end as {{ rate }}_lift,
        case when lift_note is null then round(least({{ rate }}_lift_lower, {{ rate }}_lift)::numeric, 4) end
            as {{ rate }}_lift_lower,
        case when lift_note is null then round(greatest({{ rate }}_lift_upper, {{ rate }}_lift)::numeric, 4) end
            as {{ rate }}_lift_upper,
        {%- endfor %}
        lift_note::text as lift_note
    from rows_

)

select * from final
