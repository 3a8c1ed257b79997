{#- A pre-hook of an incremental model that stopped building some columns: drop them from a table built before, so
    that its next build needs nothing by hand (on_schema_change='fail' refuses a table with a column the model
    no longer builds). Renders nothing once they are gone. -#}
{% macro drop_retired_columns(relation, retired) %}
{%- if execute and is_incremental() %}
{%- set built = adapter.get_columns_in_relation(relation) | map(attribute='name') | list %}
{%- set present = retired | select('in', built) | list %}
{%- if present %}
alter table {{ relation }} drop column {{ present | join(', drop column ') }}
{%- endif %}
{%- endif %}
{% endmacro %}
