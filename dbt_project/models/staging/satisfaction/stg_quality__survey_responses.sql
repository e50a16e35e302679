with source as (
    select * from {{ source('raw', 'survey_responses') }} as survey_responses
    where {{ not_quarantined('survey_responses', 'survey_responses') }}
),

renamed as (
    select
        survey_id,
        level,
        customer_id,
        project_id,
        ticket_id,
        {{ safe_date('responded_at') }} as responded_date,
        item,
        score,
        coalesce(scale, '0-100') as scale,
        comment,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
