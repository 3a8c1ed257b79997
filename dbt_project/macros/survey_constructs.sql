{#- The motivation constructs of the survey instrument, in display order: var `motivation_constructs`
    (dbt_project.yml), the list Python reads too. Models that pivot per construct loop over this list. -#}
{% macro survey_constructs() -%}
    {{ return(var('motivation_constructs')) }}
{%- endmacro %}
