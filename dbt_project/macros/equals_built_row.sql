{#- SQL, true when the row `alias` of an incremental model's query equals the row already built under the same
    `key` in every column but `built_at` and the `retired` ones (macro drop_retired_columns; nulls equal). An incremental model that recomputes more rows than change
    keeps the unchanged ones out of its result with `where not equals_built_row(…)`: delete+insert then leaves
    them, with the built_at of when they last changed, and what reads the rows built since skips them. The columns
    are the built table's, read when the model runs. -#}
{% macro equals_built_row(alias, key, retired=[]) %}
{%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | reject('in', ['built_at'] + retired)
    | list if execute else [key] %}
exists (
    select from {{ this }} as built
    where
        built.{{ key }} = {{ alias }}.{{ key }}
        and (built.{{ columns | join(', built.') }}) is not distinct from ({{ alias }}.{{ columns | join(', ' ~ alias ~ '.') }})
)
{% endmacro %}
