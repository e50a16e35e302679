{#
  The quality department's registers in one shape, one row per record in its latest
  exported state: internal audits, audit findings, management reviews, process
  self-assessments, process reviews, customer visits and emergency drills [001 §7.3,
  004 §6.4, §7, 000 §1.5, §3.6]. held_on is the day it took place (a finding: the day it
  was raised); a column another register has is null.
#}
{% set registers = [
    {'model': 'stg_quality__audits', 'type': 'audit', 'id': 'audit_id', 'held_on': 'audited_date',
     'columns': {'audit_year': 'audit_year', 'dept_id': 'dept_id'}},
    {'model': 'stg_quality__audit_findings', 'type': 'audit_finding', 'id': 'finding_id', 'held_on': 'opened_date',
     'columns': {'closed_on': 'closed_date', 'audit_id': 'audit_id', 'severity': 'severity'}},
    {'model': 'stg_quality__management_reviews', 'type': 'management_review', 'id': 'review_id', 'held_on': 'held_date',
     'columns': {'scope': 'scope'}},
    {'model': 'stg_quality__process_assessments', 'type': 'process_assessment', 'id': 'assessment_id',
     'held_on': 'held_date', 'columns': {'scope': 'scope'}},
    {'model': 'stg_quality__process_reviews', 'type': 'process_review', 'id': 'review_id', 'held_on': 'held_date',
     'columns': {'scope': 'scope'}},
    {'model': 'stg_quality__customer_visits', 'type': 'customer_visit', 'id': 'visit_id', 'held_on': 'visited_date',
     'columns': {'customer_id': 'customer_id', 'scope': 'scope'}},
    {'model': 'stg_quality__emergency_drills', 'type': 'emergency_drill', 'id': 'drill_id', 'held_on': 'held_date',
     'columns': {'scope': 'scope'}},
] %}
{% set columns = {'audit_year': 'integer', 'dept_id': 'text', 'closed_on': 'date', 'audit_id': 'text',
                  'severity': 'text', 'customer_id': 'text', 'scope': 'text'} %}

with records as (
    {% for register in registers %}
    select
        '{{ register.type }}' as record_type,
        {{ register.id }} as record_id,
        {{ register.held_on }} as held_on,
        {% for column, type in columns.items() %}
        {{ register.columns.get(column, 'null::' ~ type) }} as {{ column }},
        {% endfor %}
        batch_id,
        source_row
    from {{ ref(register.model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    {{ latest_per_key('records', ['record_type', 'record_id']) }}
)

select * from final
