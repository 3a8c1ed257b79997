{%- set statistics = var('linkedin_share_statistics') %}

with

source as (

    select * from {{ source('linkedin', 'organization_daily_statistics') }}

),

renamed as (

    select

        ---------- ids
        organization_urn,

        ---------- numerics
        {%- for key, column in statistics %}
        (payload -> 'totalShareStatistics' ->> '{{ key }}')::bigint as {{ column }},
        {%- endfor %}
        -- LinkedIn's engagement: (clicks + likes + comments + shares) / impressions, a ratio (not a percentage)
        (payload -> 'totalShareStatistics' ->> 'engagement')::numeric as engagement_rate,

        ---------- dates
        day as activity_date,

        ---------- load metadata
        _load_id as load_id,
        _extracted_at as extracted_at,
        _logical_date as logical_date

    from source

)

select * from renamed
