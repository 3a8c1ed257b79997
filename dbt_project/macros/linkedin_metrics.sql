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

{#- The organization share statistics (`totalShareStatistics` key, column name) the page-statistics models carry, in
    one place for the daily and the per-post statistics. -#}
{% macro linkedin_share_statistics() -%}
    {{ return([
        ('impressionCount', 'impressions'),
        ('uniqueImpressionsCount', 'unique_impressions'),
        ('clickCount', 'clicks'),
        ('likeCount', 'likes'),
        ('commentCount', 'comments'),
        ('shareCount', 'shares'),
    ]) }}
{%- endmacro %}
