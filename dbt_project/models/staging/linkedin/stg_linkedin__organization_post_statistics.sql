{%- set statistics = var('linkedin_share_statistics') %}

with

source as (

    select * from {{ source('linkedin', 'organization_post_statistics') }}

),

renamed as (

    select

        ---------- ids
        post_urn,
        payload ->> 'organizationalEntity' as organization_urn,

        ---------- numerics
        {%- for key, column in statistics %}
        (payload -> 'totalShareStatistics' ->> '{{ key }}')::bigint as {{ column }},
        {%- endfor %}
        (payload -> 'totalShareStatistics' ->> 'engagement')::numeric as engagement_rate,

        ---------- timestamps
        _logical_date as logical_date,
        -- the night of `logical_date` runs after that day has ended: the counts are as of its end
        (_logical_date + 1)::timestamp at time zone 'UTC' as metrics_as_of,

        ---------- load metadata
        _load_id as load_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
