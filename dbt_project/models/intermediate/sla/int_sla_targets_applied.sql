{#
  One row per SLA-measured ticket (an incident or service request with an opening time)
  and metric (response; onsite for on-site tickets; resolution): the project's policy,
  the priority applied and the metric's target, when the metric was done according to
  the ticket's latest version (else the ticket tool's SLA record: done_at_source), what the
  tool's record says and whose clock judges (int_tool_sla_records_latest), and where its
  clock starts on the policy's calendar (opened_total). Nothing here depends on the as-of moment: fct_ticket_sla and
  int_sla_pauses_summed stop the clock (macros/as_of.sql). Rules: DECISIONS.md, "SLA
  engine", "Priority applied".

  Incremental, keyed by ticket like fct_ticket_sla, which reads it for the tickets it
  measures: a run recomputes the tickets with a newer version or new SLA records of the
  tool, and those a changed policy version judges (macros/sla_policy_changes.sql). The pre-hook drops their rows first,
  so a ticket no longer measured (now a problem, say) keeps none.
#}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ delete_tickets_with_new_versions() }}",
    indexes=[{'columns': ['ticket_id', 'metric'], 'unique': True}, {'columns': ['measured_through_batch']}],
    post_hook="{{ analyze_if_written() }}"
) }}

{# Measured again besides the tickets with a newer version: those a changed policy version
   judges, and those with new SLA records of the tool. #}
{% set retouched_tickets %}
{{ tickets_under_changed_policies(previous_inputs_through()) }}
union
select ticket_id from {{ ref('stg_ticket_tool__sla_records') }} where batch_id > ({{ previous_inputs_through() }})
{% endset %}
with inputs_through as (
    {{ inputs_through([
        [ref('int_tickets_latest'), 'last_batch_id'],
        [ref('stg_pmo__sla_policies'), 'batch_id'],
        [ref('stg_ticket_tool__sla_records'), 'batch_id']
    ]) }}
),

tickets as (
    select *
    from {{ ref('int_tickets_latest') }}
    where ticket_type in ('incident', 'service_request')
        and opened_at is not null
        {% if is_incremental() %}
        and (last_batch_id > ({{ previous_inputs_through() }}) or {{ among('ticket_id', retouched_tickets) }})
        {% endif %}
),

policies as (
    select * from {{ ref('int_sla_policies_deduplicated') }}
),

policy_settings as (
    {{ rows_for_policy('sla_policy_settings', 'policies', ['priority_basis']) }}
),

prioritised as (
    select
        tickets.*,
        projects.sla_policy_id as policy_id,
        coalesce(policy_settings.priority_basis, 'at_open') as priority_basis,
        case
            when policy_settings.priority_basis = 'current' then tickets.priority
            else coalesce(tickets.priority_at_open, tickets.priority)
        end as priority_applied
    from tickets
    left join {{ ref('int_projects_deduplicated') }} as projects on tickets.project_id = projects.project_id
    left join policy_settings
        on projects.sla_policy_id = policy_settings.policy_id
        and {{ opened_on('tickets.opened_at', 'policy_settings') }}
),

targeted as (
    select
        prioritised.*,
        policies.policy_id is not null as has_policy,
        policies.calendar as calendar_id,
        policies.timezone,
        policies.response_target_minutes,
        policies.onsite_target_minutes,
        policies.resolution_target_minutes
    from prioritised
    left join policies
        on prioritised.policy_id = policies.policy_id
        and prioritised.priority_applied = policies.priority
        -- The version in force on the day the ticket opened, in the policy's time zone.
        and (prioritised.opened_at at time zone policies.timezone)::date
        between coalesce(policies.valid_from, '-infinity') and coalesce(policies.valid_through, 'infinity')
),

metrics as (
    select
        targeted.ticket_id,
        metric.metric,
        targeted.project_id,
        targeted.opened_month,
        targeted.opened_at,
        targeted.has_policy,
        case when targeted.has_policy then targeted.policy_id end as policy_id,
        targeted.calendar_id,
        targeted.timezone,
        targeted.priority_basis,
        targeted.priority_applied,
        metric.target_minutes,
        -- The export's time first; the tool's SLA record fills the times the export lacks.
        coalesce(metric.done_at, tool.done_at) as done_at,
        case when metric.done_at is not null then 'export' when tool.done_at is not null then 'tool' end
            as done_at_source,
        coalesce(tool.sla_clock, 'ours') as sla_clock,
        -- The tool's verdict as of its export; fct_ticket_sla reads it as of the as-of moment.
        case
            when tool.ticket_id is null or tool.stage = 'cancelled' then null
            when tool.is_breached then 'breached'
            when tool.done_at is not null or (tool.stage is null and targeted.resolved_at is not null) then 'met'
            else 'in_progress'
        end as tool_status,
        -- When the tool's record was over: its stop time, or for a record without a stage
        -- (Jira's SLA columns) the ticket's resolution, by which every cycle has ended.
        case when tool.stage is null then targeted.resolved_at else tool.done_at end as tool_done_by,
        tool.breach_at as tool_due_at,
        targeted.reopen_count > 0 or targeted.status = 'reopened' as is_reopened,
        metric.metric = 'resolution' and targeted.is_resolved_at_closing as is_done_at_closing
    from targeted
    cross join
        lateral (
            values
            ('response', targeted.response_target_minutes, targeted.responded_at),
            ('onsite', targeted.onsite_target_minutes, targeted.onsite_arrived_at),
            ('resolution', targeted.resolution_target_minutes, targeted.resolved_at)
        ) as metric (metric, target_minutes, done_at)
    left join {{ ref('int_tool_sla_records_latest') }} as tool
        on targeted.ticket_id = tool.ticket_id
        and metric.metric = tool.metric
    where (metric.metric <> 'onsite' or targeted.delivery_mode = 'onsite')
        and (not targeted.has_policy or metric.target_minutes is not null)
        -- A source whose closed tickets lack a resolution time may ask not to judge them.
        and not (
            metric.metric = 'resolution' and targeted.is_resolved_at_closing
            and targeted.closed_without_resolution = 'unmeasured'
        )
),

final as (
    select
        metrics.*,
        {{ cumulative_minutes('metrics.opened_at', 'metrics.calendar_id', 'opened_day') }} as opened_total,
        (select batch_id from inputs_through) as measured_through_batch
    from metrics
    left join {{ calendar_day_of('opened_day', 'metrics', 'metrics.opened_at') }}
)

select * from final
