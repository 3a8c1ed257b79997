-- One row per tracking link (Bitly): the employee × content piece it serves, how many shares use it, and the clicks
-- it counted, as fct_shares credits them to its shares. A view: a link's share count changes with each reshare,
-- and kept on every share's row (as it once was) it made a reshare rewrite all its siblings.

{{ config(materialized='view') }}

select
    tracking_link,
    employee_id,
    employee_key,
    content_id,
    count(*)::integer as shares,
    min(shared_at) as first_shared_at,
    max(shared_at) as last_shared_at,
    sum(tracking_link_clicks) as tracking_link_clicks,
    max(tracking_link_clicks_extracted_at) as tracking_link_clicks_extracted_at
from {{ ref('fct_shares') }}
where tracking_link is not null
group by tracking_link, employee_id, employee_key, content_id
