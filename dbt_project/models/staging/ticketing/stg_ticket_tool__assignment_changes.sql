with source as (
    select * from {{ source('raw', 'ticket_assignment_changes') }} as changes
    where {{ not_quarantined('ticket_assignment_changes', 'changes') }}
        {% if is_incremental() %}
        and changes._batch_id > (select coalesce(max(batch_id), 0) from {{ this }})
        {% endif %}
),

renamed as (
    select
        ticket_id,
        assignment_group,
        {{ safe_timestamptz('changed_at') }} as changed_at,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
