with source as (
    select * from {{ source('raw', 'tickets') }} as tickets
    where {{ not_quarantined('tickets', 'tickets') }}
),

renamed as (
    select
        ticket_id,
        ticket_type,
        project_id,
        priority,
        category,
        opened_at::timestamptz as opened_at,
        responded_at::timestamptz as responded_at,
        onsite_arrived_at::timestamptz as onsite_arrived_at,
        resolved_at::timestamptz as resolved_at,
        closed_at::timestamptz as closed_at,
        status,
        assignee,
        assignment_group,
        reassignment_count::integer as reassignment_count,
        reopen_count::integer as reopen_count,
        coalesce(is_major::boolean, false) as is_major,
        delivery_mode,
        outcome,
        related_problem_id,
        updated_at::timestamptz as updated_at,
        _batch_id as batch_id,
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
