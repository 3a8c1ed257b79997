-- One row per share with its post's outcome: the LinkedIn cumulative counts as of the latest night observed
-- (0 while the post has not been observed yet, and for networks whose metrics are not collected).

with

shares as (

    select * from {{ ref('stg_advocacy__shares') }}

),

linkedin_post_metrics as (

    select * from {{ ref('int_linkedin__post_metrics_latest') }}

),

final as (

    select
        shares.share_id,
        shares.employee_id,
        shares.content_id,
        shares.network,
        shares.post_id,
        shares.shared_at,
        date_trunc('month', shares.shared_at at time zone 'UTC')::date as share_month,
        shares.share_mode,
        shares.copy_edited,
        shares.campaign,
        shares.audience_size,
        coalesce(linkedin_post_metrics.impressions, 0) as impressions,
        coalesce(linkedin_post_metrics.engagements, 0) as engagements,
        coalesce(linkedin_post_metrics.clicks, 0) as clicks,
        linkedin_post_metrics.metrics_as_of
    from shares
    left join linkedin_post_metrics
        on shares.network = 'linkedin'
        and shares.post_id = linkedin_post_metrics.post_urn

)

select * from final
