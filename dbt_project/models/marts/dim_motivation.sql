-- The motivations shares are attributed to: the survey's four constructs (DESIGN §1), plus `unattributed` for
-- shares that cannot be attributed (no survey profile, or a group too small to show).

with

motivations (motivation, meaning, expected_effect, is_intrinsic, display_order) as (

    values
    (
        'obligated', 'shares because they feel they have to',
        'disingenuous; lower engagement; a morale warning sign', false, 1
    ),
    (
        'good_news', 'wants to share the company''s good news',
        'morale indicator; higher engagement', true, 2
    ),
    (
        'proud', 'proud of the company they work for',
        'morale indicator; harness through training', true, 3
    ),
    (
        'educate', 'wants to educate customers',
        'builds relationships; risk of sounding too "salesy"', false, 4
    ),
    (
        'unattributed', 'no motivation known: the sharer has no survey profile valid at share time, or the group '
        || 'has fewer respondents than the k-anonymity threshold', 'none (not a motivation)', null, 5
    )

)

select
    motivation::text as motivation,
    meaning::text as meaning,
    expected_effect::text as expected_effect,
    is_intrinsic::boolean as is_intrinsic,
    display_order::integer as display_order
from motivations
