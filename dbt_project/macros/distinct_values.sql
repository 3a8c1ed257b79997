{#- The distinct non-null values of `column` in `relation` (a query with one column, `column`), found by skipping
    through the relation's index on the column: one index probe per distinct value (a recursive "loose index
    scan"), where `select distinct` reads every row. For a column with few values in many rows (the sharers of
    every share). -#}
{% macro distinct_values(relation, column) %}
with recursive skip (value) as (
    (select {{ column }} from {{ relation }} where {{ column }} is not null order by {{ column }} limit 1)
    union all
    select (
        select {{ column }} from {{ relation }}
        where {{ column }} > skip.value
        order by {{ column }} limit 1
    )
    from skip
    where skip.value is not null
)

select value as {{ column }} from skip
where value is not null
{% endmacro %}
