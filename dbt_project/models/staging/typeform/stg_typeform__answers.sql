with

source as (

    select * from {{ source('typeform', 'responses') }}

),

answers as (

    select
        source.form_id,
        source.response_token,
        answer
    from source
    cross join lateral jsonb_array_elements(coalesce(source.payload -> 'answers', '[]'::jsonb)) as answers (answer)

),

renamed as (

    select

        ---------- ids
        form_id,
        response_token,
        answer -> 'field' ->> 'ref' as question_ref,
        answer -> 'field' ->> 'id' as field_id,

        ---------- properties
        answer -> 'field' ->> 'type' as field_type,
        answer ->> 'type' as answer_type,

        ---------- numerics
        -- Set for `number` answers (opinion scales); other answer types carry their value under another key.
        (answer ->> 'number')::numeric as answer_number

    from answers

)

select * from renamed
