{#
  One row per complaint (its latest state in the complaint register) [003 §6.2.3]:
  received, major, escalated, closed, and the hours it took to close. A major complaint
  that was never escalated is flagged: the source documents require escalation.
#}
with complaints as (
    select * from {{ ref('int_complaints_deduplicated') }}
),

final as (
    select
        complaints.complaint_id,
        complaints.customer_id,
        complaints.project_id,
        projects.dept_id,
        complaints.received_at,
        date_trunc('month', complaints.received_at at time zone '{{ var("timezone") }}')::date as received_month,
        complaints.is_major,
        complaints.escalated_at,
        complaints.closed_at,
        complaints.closed_at is not null as is_closed,
        round(extract(epoch from complaints.closed_at - complaints.received_at) / 3600, 2) as hours_to_close,
        complaints.is_major and complaints.escalated_at is null as is_major_not_escalated,
        complaints.description is not null as has_description
    from complaints
    left join {{ ref('dim_projects') }} as projects on complaints.project_id = projects.project_id
)

select * from final
