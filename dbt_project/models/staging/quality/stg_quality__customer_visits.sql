with source as (
    select * from {{ source('raw', 'customer_visits') }} as customer_visits
    where {{ not_quarantined('customer_visits', 'customer_visits') }}
),

renamed as (
    select
        visit_id,
        customer_id,
        {{ safe_date('visited_at') }} as visited_date,
        scope,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
