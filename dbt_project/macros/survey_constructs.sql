{#- The motivation constructs of the survey instrument, in display order (DESIGN §1; the seed `survey_instrument`
    maps its questions onto these). Models that pivot per construct loop over this list. -#}
{% macro survey_constructs() -%}
    {{ return(['obligated', 'good_news', 'proud', 'educate']) }}
{%- endmacro %}
