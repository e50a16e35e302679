with source as (
    select * from {{ source('raw', 'customers') }} as customers
    where {{ not_quarantined('customers', 'customers') }}
),

renamed as (
    select
        customer_id,
        name as customer_name,
        industry,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
