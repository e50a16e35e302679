with source as (
    select * from {{ source('raw', 'tickets') }} as tickets
    where {{ not_quarantined('tickets', 'tickets') }}
        {% if is_incremental() %}
        and tickets._batch_id > (select coalesce(max(batch_id), 0) from {{ this }})
        {% endif %}
),

renamed as (
    select
        ticket_id,
        ticket_type,
        project_id,
        priority,
        impact,
        urgency,
        category,
        title,
        {{ safe_timestamptz('opened_at') }} as opened_at,
        {{ safe_timestamptz('responded_at') }} as responded_at,
        {{ safe_timestamptz('onsite_arrived_at') }} as onsite_arrived_at,
        {{ safe_timestamptz('resolved_at') }} as resolved_at,
        {{ safe_timestamptz('closed_at') }} as closed_at,
        status,
        assignee,
        assignment_group,
        {{ safe_integer('reassignment_count') }} as reassignment_count,
        {{ safe_integer('reopen_count') }} as reopen_count,
        coalesce({{ safe_boolean('is_major') }}, false) as is_major,
        delivery_mode,
        outcome,
        related_problem_id,
        -- The ticket tool's own SLA verdict, where the export carries one (reconciliation).
        {{ safe_boolean('tool_sla_met') }} as tool_sla_met,
        {{ safe_timestamptz('updated_at') }} as updated_at,
        {{ safe_integer('update_sequence') }} as update_sequence,
        -- The source's rule for a ticket closed without a resolution time (rows loaded
        -- before sources had the setting followed the default).
        coalesce(closed_without_resolution, 'closed_at') as closed_without_resolution,
        _batch_id as batch_id,
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
