with source as (
    select * from {{ source('raw', 'management_reviews') }} as management_reviews
    where {{ not_quarantined('management_reviews', 'management_reviews') }}
),

renamed as (
    select
        review_id,
        {{ safe_date('held_at') }} as held_date,
        scope,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
