with source as (
    select * from {{ source('raw', 'departments') }} as departments
    where {{ not_quarantined('departments', 'departments') }}
),

renamed as (
    select
        dept_id,
        name as department_name,
        {{ safe_boolean('in_management_system') }} as is_in_management_system,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
