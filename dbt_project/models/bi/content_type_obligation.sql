-- Per content type: how much of its sharing is out of obligation, and how it performs (the macro
-- content_obligation holds the logic, shared with bi.content_obligation). Content without a type in the export is
-- type `unknown`. k-anonymity: a type with fewer than var('k_anonymity') surveyed sharers is not shown at all.

{{ content_obligation(['content_type']) }}

select
    content_type::text as content_type,
    contents::integer as contents,
    sharers::integer as sharers,
    respondents::integer as respondents,
    shares::integer as shares,
    obligated_share,
    obligated_share > 0.5 as is_mostly_obligated,
    engagement_rate,
    click_through_rate,
    shares < {{ var('signal_min_shares') }} as is_low_volume
from measured
