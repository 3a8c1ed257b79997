-- dim_motivation describes exactly the survey's constructs (var `motivation_constructs`, in their display order)
-- and `unattributed` last: its rows are written out with their meanings, the list itself is stated once.

with

expected as (

    {% for motivation in var('motivation_constructs') + ['unattributed'] -%}
    select '{{ motivation }}'::text as motivation, {{ loop.index }} as display_order
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select
    coalesce(expected.motivation, dim_motivation.motivation) as motivation,
    expected.display_order as expected_order,
    dim_motivation.display_order as actual_order
from expected
full outer join {{ ref('dim_motivation') }} as dim_motivation
    on expected.motivation = dim_motivation.motivation
where expected.display_order is distinct from dim_motivation.display_order
