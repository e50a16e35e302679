with source as (
    select * from {{ source('raw', 'process_assessments') }} as process_assessments
    where {{ not_quarantined('process_assessments', 'process_assessments') }}
),

renamed as (
    select
        assessment_id,
        {{ safe_date('held_at') }} as held_date,
        scope,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
