{#
  The quality department's registers in one shape, one row per register row: internal
  audits, audit findings, management reviews, process self-assessments, process reviews,
  customer visits and emergency drills [001 §7.3, 004 §6.4, §7, 000 §1.5, §3.6].
  held_on is the day it took place (a finding: the day it was raised).
#}
{% set registers = {
    'audits': {'type': 'audit', 'id': 'audit_id', 'held_on': 'audited_at', 'extra': {
        'audit_year': safe_integer('year'), 'dept_id': 'dept_id'}},
    'audit_findings': {'type': 'audit_finding', 'id': 'finding_id', 'held_on': 'opened_at', 'extra': {
        'closed_on': safe_date('closed_at'), 'audit_id': 'audit_id', 'severity': 'severity'}},
    'management_reviews': {'type': 'management_review', 'id': 'review_id', 'held_on': 'held_at', 'extra': {'scope': 'scope'}},
    'process_assessments': {'type': 'process_assessment', 'id': 'assessment_id', 'held_on': 'held_at', 'extra': {'scope': 'scope'}},
    'process_reviews': {'type': 'process_review', 'id': 'review_id', 'held_on': 'held_at', 'extra': {'scope': 'scope'}},
    'customer_visits': {'type': 'customer_visit', 'id': 'visit_id', 'held_on': 'visited_at', 'extra': {
        'customer_id': 'customer_id', 'scope': 'scope'}},
    'emergency_drills': {'type': 'emergency_drill', 'id': 'drill_id', 'held_on': 'held_at', 'extra': {'scope': 'scope'}},
} %}
{% set extras = {'audit_year': 'integer', 'dept_id': 'text', 'closed_on': 'date', 'audit_id': 'text',
                 'severity': 'text', 'customer_id': 'text', 'scope': 'text'} %}

{% for entity, register in registers.items() %}
select
    '{{ register.type }}' as record_type,
    {{ register.id }} as record_id,
    {{ safe_date(register.held_on) }} as held_on,
    {% for column, type in extras.items() %}
    {{ register.extra.get(column, 'null::' ~ type) }} as {{ column }},
    {% endfor %}
    _batch_id as batch_id,
    _source_row as source_row
from {{ source('raw', entity) }} as {{ entity }}
where {{ not_quarantined(entity, entity) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
