{#- A model's custom schema (`+schema:` in dbt_project.yml) is used as is — `staging`, `marts`, and for the `bi`
    models the run's release schema (var `bi_release_schema`, `bi_build` when none is named) — instead of dbt's
    default `<target schema>_<custom schema>`: the rest of the pipeline (GX audit, publish, BI grants) names these
    schemas directly. Models without a custom schema go to the target's schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
{%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
{{ custom_schema_name | trim }}
{%- endif -%}
{%- endmacro %}
