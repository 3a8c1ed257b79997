{#- Fails on every `group_by` group whose values of the column do not add up to exactly 1 (numeric, no tolerance). -#}
{% test sums_to_one(model, column_name, group_by) %}

select
    {{ group_by | join(', ') }},
    sum({{ column_name }}) as total
from {{ model }}
group by {{ group_by | join(', ') }}
having sum({{ column_name }}) <> 1

{% endtest %}
