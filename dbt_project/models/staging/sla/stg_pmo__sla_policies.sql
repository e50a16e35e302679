with source as (
    select * from {{ source('raw', 'sla_policies') }} as policies
    where {{ not_quarantined('sla_policies', 'policies') }}
),

renamed as (
    select
        policy_id,
        priority,
        {{ safe_integer('response_minutes') }} as response_target_minutes,
        {{ safe_integer('onsite_minutes') }} as onsite_target_minutes,
        {{ safe_integer('resolution_minutes') }} as resolution_target_minutes,
        calendar,
        coalesce(timezone, '{{ var("timezone") }}') as timezone,
        {{ safe_date('valid_from') }} as valid_from,
        {{ safe_date('valid_to') }} as valid_to,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
