{#- Primary-key test for compound keys: fails on every combination of `columns` that occurs more than once.
    (dbt_utils.unique_combination_of_columns, written here because the project depends on no dbt package.) -#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
