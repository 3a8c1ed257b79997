{#- SQL, true when the row `alias` of an incremental model's query equals the row already built under the same
    `key` (a column or a list of them) in every column but `built_at` and the `retired` ones (macro
    drop_retired_columns; nulls equal). An incremental model that recomputes more rows than change keeps the
    unchanged ones out of its result with `where not equals_built_row(…)`: delete+insert then leaves them, with the
    built_at of when they last changed, and what reads the rows built since skips them. The columns are the built
    table's, read when the model runs. -#}
{% macro equals_built_row(alias, key, retired=[]) %}
{%- set keys = [key] if key is string else key %}
{%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | reject('in', ['built_at'] + retired)
    | list if execute else keys %}
exists (
    select from {{ this }} as built
    where
        -- a row comparison with `=` is planned as one `=` per column: an index probe
        (built.{{ keys | join(', built.') }}) = ({{ alias }}.{{ keys | join(', ' ~ alias ~ '.') }})
        and (built.{{ columns | join(', built.') }}) is not distinct from ({{ alias }}.{{ columns | join(', ' ~ alias ~ '.') }})
)
{% endmacro %}
