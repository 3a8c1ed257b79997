-- Who answered each Qualtrics response, by the link its survey is configured to use (seed survey_respondent_links:
-- the concrete survey's row, else the vendor's `*` row, else `externalDataReference`):
--   externalDataReference   the contact's external data reference is the employee id;
--   embedded:<field>        the embedded-data field the survey owner named holds the employee id;
--   recipientEmail          the recipient's e-mail matches one employee's roster address, ignoring case (an address
--                           two employees share links nobody).
-- A response its link does not resolve keeps a null employee_id (and so never reaches a motivation profile).

with

responses as (

    select * from {{ ref('stg_qualtrics__responses') }}

),

links as (

    select * from {{ ref('survey_respondent_links') }}
    where source = 'qualtrics'

),

roster_emails as (

    select
        email_normalised,
        min(employee_id) as employee_id,
        count(distinct employee_id) as employees
    from {{ ref('stg_hr__roster_emails') }}
    group by email_normalised

),

configured as (

    select
        responses.survey_id,
        responses.response_id,
        coalesce(survey_link.link_field, vendor_link.link_field, 'externalDataReference') as link_field
    from responses
    left join links as survey_link on responses.survey_id = survey_link.survey_id
    left join links as vendor_link on vendor_link.survey_id = '*'

),

final as (

    select
        configured.survey_id,
        configured.response_id,
        configured.link_field,
        case
            when configured.link_field = 'externalDataReference' then responses.external_data_reference
            when starts_with(configured.link_field, 'embedded:')
                then nullif(responses.embedded_data ->> substr(configured.link_field, length('embedded:') + 1), '')
            when configured.link_field = 'recipientEmail' and roster_emails.employees = 1
                then roster_emails.employee_id
        end as employee_id
    from configured
    inner join responses
        on configured.survey_id = responses.survey_id
        and configured.response_id = responses.response_id
    left join roster_emails
        on lower(trim(responses.recipient_email)) = roster_emails.email_normalised

)

select * from final
