{#- Additive parts split over a dimension must add up to the totals kept in their own relation: per `group_by`
    group, Σ of each part column of the model == the total column of `totals` (exactly: numeric, no tolerance).
    `parts` maps a part column of the model to its total column in `totals`. A group present on one side only fails
    too (its missing side counts as 0 against a non-zero other side). -#}
{% test parts_sum_to_totals(model, totals, group_by, parts) %}

with

parts as (

    select
        {{ group_by | join(', ') }},
        {%- for part in parts %}
        sum({{ part }}) as {{ part }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
    group by {{ group_by | join(', ') }}

),

totals as (

    select
        {{ group_by | join(', ') }},
        {%- for part, total in parts.items() %}
        {{ total }} as {{ part }}_total{{ "," if not loop.last }}
        {%- endfor %}
    from {{ totals }}

)

select *
from parts
full join totals using ({{ group_by | join(', ') }})
where
    {%- for part in parts %}
    coalesce(parts.{{ part }}, 0) <> coalesce(totals.{{ part }}_total, 0){{ " or" if not loop.last }}
    {%- endfor %}

{% endtest %}
