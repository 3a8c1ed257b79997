-- Every motivation of dim_motivation has a row in every month × network group, so readers see a stable grid.

with

groups as (

    select distinct
        month,
        network
    from {{ ref('motivation_attribution') }}

),

expected as (

    select
        groups.month,
        groups.network,
        dim_motivation.motivation
    from groups
    cross join {{ ref('dim_motivation') }} as dim_motivation

)

select expected.*
from expected
left join {{ ref('motivation_attribution') }} as motivation_attribution
    on expected.month = motivation_attribution.month
    and expected.network = motivation_attribution.network
    and expected.motivation = motivation_attribution.motivation
where motivation_attribution.motivation is null
