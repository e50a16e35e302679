{#
  Where a raw record belongs: the project and the day its entity dates it by (a ticket's
  opening, a callback's call, …), so a report lists only its own projects' and period's
  records. entity: [its project column, the column dating it]; via_ticket: its ticket's project.
#}
{% macro record_placement() -%}
    {{ return({
        'tickets': ['project_id', 'opened_at'],
        'ticket_status_changes': ['via_ticket', 'changed_at'],
        'ticket_assignment_changes': ['via_ticket', 'changed_at'],
        'incident_callbacks': ['via_ticket', 'called_at'],
        'survey_responses': ['project_id', 'responded_at'],
        'complaints': ['project_id', 'received_at'],
        'service_reports': ['project_id', 'due_date'],
        'acceptances': ['project_id', 'applied_at'],
        'projects': ['project_id', none],
        'audits': [none, 'audited_at'],
        'audit_findings': [none, 'opened_at'],
        'management_reviews': [none, 'held_at'],
        'process_assessments': [none, 'held_at'],
        'process_reviews': [none, 'held_at'],
        'customer_visits': [none, 'visited_at'],
        'emergency_drills': [none, 'held_at'],
        'improvement_register': [none, 'raised_date'],
        'sla_exemptions': ['via_ticket', 'approved_at'],
        'tool_sla_records': ['via_ticket', 'started_at'],
    }) }}
{%- endmacro %}

{# The select of an entity's raw rows (alias raw_rows) with their place; the caller adds the where clause. #}
{% macro placed_rows(entity, placement) -%}
    {%- set project, dated_by = placement -%}
    select
        '{{ entity }}' as entity,
        raw_rows._batch_id as batch_id,
        raw_rows._source_row as source_row,
        {% if project == 'via_ticket' %}tickets.project_id{% elif project %}raw_rows.{{ project }}{% else %}null{% endif %}
            as project_id,
        {% if dated_by %}coalesce(
            ({{ safe_timestamptz('raw_rows.' ~ dated_by) }} at time zone '{{ var('timezone') }}')::date,
            {{ safe_date('raw_rows.' ~ dated_by) }}
        ){% else %}null::date{% endif %} as event_date
    from {{ source('raw', entity) }} as raw_rows
    {% if project == 'via_ticket' %}
    left join {{ ref('int_tickets_latest') }} as tickets on raw_rows.ticket_id = tickets.ticket_id
    {% endif %}
{%- endmacro %}
