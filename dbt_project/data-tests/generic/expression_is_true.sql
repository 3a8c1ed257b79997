{#- Row-level invariant: fails on every row where `expression` is not true (false or null).
    Put on a column, `expression` is appended to the column name: `expression: ">= 0"`. -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ column_name ~ ' ' if column_name is not none }}{{ expression }}), false)

{% endtest %}
