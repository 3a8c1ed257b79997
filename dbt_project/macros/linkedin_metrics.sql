{#- The LinkedIn member-post metrics the warehouse keeps: (queryType, column name), in one place for every model
    that pivots or carries them. -#}
{% macro linkedin_post_metrics() -%}
    {{ return([
        ('IMPRESSION', 'impressions'),
        ('MEMBERS_REACHED', 'members_reached'),
        ('REACTION', 'reactions'),
        ('COMMENT', 'comments'),
        ('RESHARE', 'reshares'),
        ('LINK_CLICKS', 'clicks'),
    ]) }}
{%- endmacro %}
