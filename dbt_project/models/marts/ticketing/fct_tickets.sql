{#
  One row per ticket (its latest version) with its SLA outcome per metric and overall:
  `sla_status` is not_measured (problems, changes, releases), no_policy, breached (any
  metric breached), in_progress (any metric still open within target) or met (meeting
  every target, SPEC §3), after exemptions: a breach exempted counts as its
  counted_status (met, or exempted: a ticket whose only breaches are exempted and excluded
  is exempted); sla_status_before_exemptions is the engine's verdict. Metric detail and
  the rules: fct_ticket_sla, DECISIONS.md.
  Incremental: rebuilds the tickets with a new version or re-measured in this run.
#}
{# Indexed by ticket for the incremental runs; by newest batch, SLA measurement and resolution
   for the incremental counts that read it (the tickets changed since their last run, those
   still open on a day recounted); and by project and month for the reports, which read one
   project's month at a time (an incremental table gets new indexes on a --full-refresh). #}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    on_schema_change='fail',
    indexes=[
        {'columns': ['ticket_id'], 'unique': True}, {'columns': ['last_batch_id']}, {'columns': ['sla_measured_at']},
        {'columns': ['resolved_at']},
        {'columns': ['project_id', 'ticket_type', 'opened_month']}
    ]
) }}

{% set metrics = ['response', 'onsite', 'resolution'] %}

with
{% if is_incremental() %}
touched as (
    select ticket_id from {{ ref('int_tickets_latest') }}
    where last_batch_id > (select coalesce(max(last_batch_id), 0) from {{ this }})
    union
    select ticket_id from {{ ref('fct_ticket_sla') }}
    where measured_at > (select coalesce(max(sla_measured_at), '-infinity') from {{ this }})
),
{% endif %}

tickets as (
    select * from {{ ref('int_tickets_latest') }}
    {% if is_incremental() %}
    where {{ among('ticket_id', 'select ticket_id from touched') }}
    {% endif %}
),

sla as (
    select
        ticket_id,
        max(policy_id) as sla_policy_id,
        max(priority_applied) as sla_priority,
        bool_or(uses_fallback_calendar) as uses_fallback_calendar,
        max(measured_at) as sla_measured_at,
        {% for metric in metrics %}
        max(status) filter (where metric = '{{ metric }}') as {{ metric }}_status_measured,
        max(due_at) filter (where metric = '{{ metric }}') as {{ metric }}_due_at,
        max(net_minutes) filter (where metric = '{{ metric }}') as {{ metric }}_minutes,
        {% endfor %}
        bool_or(status = 'no_policy') as has_no_policy,
        bool_or(status = 'breached') as has_breach,
        bool_or(counted_status = 'breached') as has_counted_breach,
        bool_or(counted_status = 'exempted') as has_excluded_breach,
        bool_or(status = 'in_progress') as has_open_metric
    from {{ ref('fct_ticket_sla') }}
    {% if is_incremental() %}
    where {{ among('ticket_id', 'select ticket_id from tickets') }}
    {% endif %}
    group by ticket_id
),

final as (
    select
        tickets.*,
        sla.sla_policy_id,
        sla.sla_priority,
        {% for metric in metrics %}
        coalesce(sla.{{ metric }}_status_measured, 'not_applicable') as {{ metric }}_status,
        sla.{{ metric }}_due_at,
        sla.{{ metric }}_minutes,
        {% endfor %}
        case
            when tickets.ticket_type not in ('incident', 'service_request') then 'not_measured'
            when sla.has_no_policy or sla.ticket_id is null then 'no_policy'
            when sla.has_counted_breach then 'breached'
            when sla.has_open_metric then 'in_progress'
            when sla.has_excluded_breach then 'exempted'
            else 'met'
        end as sla_status,
        case
            when tickets.ticket_type not in ('incident', 'service_request') then 'not_measured'
            when sla.has_no_policy or sla.ticket_id is null then 'no_policy'
            when sla.has_breach then 'breached'
            when sla.has_open_metric then 'in_progress'
            else 'met'
        end as sla_status_before_exemptions,
        coalesce(sla.uses_fallback_calendar, false) as uses_fallback_calendar,
        sla.sla_measured_at
    from tickets
    left join sla on tickets.ticket_id = sla.ticket_id
)

select * from final
