{#
  One row per SLA-measured ticket and metric (response, onsite, resolution): the policy
  and priority that set the target, elapsed calendar and business minutes, paused
  minutes, due time and status (met, breached, in_progress, no_policy). Rules and worked
  examples: DECISIONS.md, "SLA engine".

  Incremental: a run re-measures the tickets with a newer version or new status changes
  since the last run, and the tickets with a metric still open (their status depends on
  the as-of moment); the rest of history is not touched.
#}
{# Indexed by ticket for the incremental runs, and by project and month for the reports, which
   read one project's month at a time (an incremental table gets new indexes on a --full-refresh).
   The pre-hook drops the rows of every ticket with a new version before they are measured
   again: one that is no longer measured (now a problem, say) writes no rows to replace them.
   The batch stamp's index finds where a run starts without reading every row. #}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where ticket_id in (
        select ticket_id from {{ ref('int_tickets_latest') }} where last_batch_id > ({{ previous_inputs_through() }})
    ){% endif %}",
    indexes=[
        {'columns': ['ticket_id', 'metric'], 'unique': True}, {'columns': ['project_id', 'opened_month']},
        {'columns': ['measured_through_batch']}
    ]
) }}

with inputs_through as (
    {{ inputs_through([
        [ref('int_tickets_latest'), 'last_batch_id'],
        [ref('stg_ticket_tool__status_changes'), 'batch_id']
    ]) }}
),

{% if is_incremental() %}
watermark as (
    {{ previous_inputs_through() }}
),

{# One set of ticket ids joined once: an OR of IN-subqueries can make PostgreSQL scan
   the status changes once per ticket. #}
touched as (
    select ticket_id from {{ ref('int_tickets_latest') }}
    where last_batch_id > (select batch_id from watermark)
    union
    select ticket_id from {{ this }} where done_at is null
    union
    select ticket_id from {{ ref('stg_ticket_tool__status_changes') }}
    where batch_id > (select batch_id from watermark)
),
{% endif %}

tickets as (
    select *
    from {{ ref('int_tickets_latest') }}
    where ticket_type in ('incident', 'service_request')
        and opened_at is not null
    {% if is_incremental() %}
        and {{ among('ticket_id', 'select ticket_id from touched') }}
    {% endif %}
),

policies as (
    select * from {{ ref('int_sla_policies_deduplicated') }}
),

policy_settings as (
    {{ rows_for_policy('sla_policy_settings', 'policies', ['priority_basis']) }}
),

pause_statuses as (
    {{ rows_for_policy('sla_pause_statuses', 'policies', ['status']) }}
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
    left join policy_settings on projects.sla_policy_id = policy_settings.policy_id
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
),

metrics as (
    select
        targeted.ticket_id,
        targeted.project_id,
        targeted.opened_month,
        targeted.opened_at,
        targeted.has_policy,
        case when targeted.has_policy then targeted.policy_id end as policy_id,
        targeted.calendar_id,
        targeted.timezone,
        targeted.priority_basis,
        targeted.priority_applied,
        targeted.reopen_count > 0 or targeted.status = 'reopened' as is_reopened,
        metric.metric,
        metric.target_minutes,
        metric.metric = 'resolution' and targeted.is_resolved_at_closing as is_done_at_closing,
        -- Done after the as-of moment means not done yet on the day measured (back-fills).
        case when metric.done_at <= {{ as_of() }} then metric.done_at end as done_at
    from targeted
    cross join lateral (
        values
            ('response', targeted.response_target_minutes, targeted.responded_at),
            ('onsite', targeted.onsite_target_minutes, targeted.onsite_arrived_at),
            ('resolution', targeted.resolution_target_minutes, targeted.resolved_at)
    ) as metric (metric, target_minutes, done_at)
    where (metric.metric <> 'onsite' or targeted.delivery_mode = 'onsite')
        and (not targeted.has_policy or metric.target_minutes is not null)
        -- A source whose closed tickets lack a resolution time may ask not to judge them.
        and not (
            metric.metric = 'resolution' and targeted.is_resolved_at_closing
            and targeted.closed_without_resolution = 'unmeasured'
        )
),

measured as (
    select
        *,
        greatest(coalesce(done_at, {{ as_of() }}), opened_at) as measured_until
    from metrics
),

totals as (
    select
        *,
        until_total - opened_total as elapsed_business_minutes
    from (
        select
            measured.*,
            {{ cumulative_minutes('measured.opened_at', 'measured.calendar_id', 'opened_day') }} as opened_total,
            {{ cumulative_minutes('measured.measured_until', 'measured.calendar_id', 'until_day') }} as until_total,
            until_day.calendar_source as until_calendar_source
        from measured
        left join {{ calendar_day_of('opened_day', 'measured', 'measured.opened_at') }}
        left join {{ calendar_day_of('until_day', 'measured', 'measured.measured_until') }}
    ) as measured_totals
),

status_intervals as (
    select
        ticket_id,
        status,
        changed_at as started_at,
        lead(changed_at) over (partition by ticket_id order by changed_at) as ended_at
    from {{ ref('int_ticket_status_history_derived') }}
    {% if is_incremental() %}
    where {{ among('ticket_id', 'select ticket_id from tickets') }}
    {% endif %}
),

pauses as (
    select
        totals.ticket_id,
        totals.metric,
        totals.calendar_id,
        totals.timezone,
        totals.opened_total,
        totals.target_minutes,
        greatest(status_intervals.started_at, totals.opened_at) as paused_from,
        least(coalesce(status_intervals.ended_at, totals.measured_until), totals.measured_until) as paused_until
    from totals
    inner join status_intervals on totals.ticket_id = status_intervals.ticket_id
    inner join pause_statuses
        on totals.policy_id = pause_statuses.policy_id
        and status_intervals.status = pause_statuses.status
    where totals.has_policy
),

paused_spans as (
    select
        ticket_id,
        metric,
        opened_total,
        target_minutes,
        start_total,
        end_total - start_total as paused_minutes
    from (
        select
            pauses.ticket_id,
            pauses.metric,
            pauses.opened_total,
            pauses.target_minutes,
            {{ cumulative_minutes('pauses.paused_from', 'pauses.calendar_id', 'start_day') }} as start_total,
            {{ cumulative_minutes('pauses.paused_until', 'pauses.calendar_id', 'end_day') }} as end_total
        from pauses
        left join {{ calendar_day_of('start_day', 'pauses', 'pauses.paused_from') }}
        left join {{ calendar_day_of('end_day', 'pauses', 'pauses.paused_until') }}
        where pauses.paused_until > pauses.paused_from
    ) as pause_totals
),

paused_running as (
    select
        *,
        coalesce(sum(paused_minutes) over (
            partition by ticket_id, metric order by start_total rows between unbounded preceding and 1 preceding
        ), 0) as paused_before
    from paused_spans
),

with_pauses as (
    select
        totals.*,
        coalesce(pause_sums.paused_minutes, 0) as paused_minutes,
        coalesce(pause_sums.due_shift_minutes, 0) as due_shift_minutes
    from totals
    left join (
        -- A pause moves the due time only if it began before the net clock reached the target.
        select
            paused_running.ticket_id,
            paused_running.metric,
            sum(paused_running.paused_minutes) as paused_minutes,
            sum(paused_running.paused_minutes) filter (
                where paused_running.start_total - paused_running.opened_total - paused_running.paused_before
                    < paused_running.target_minutes
            ) as due_shift_minutes
        from paused_running
        group by paused_running.ticket_id, paused_running.metric
    ) as pause_sums
        on totals.ticket_id = pause_sums.ticket_id
        and totals.metric = pause_sums.metric
),

due as (
    select
        with_pauses.*,
        with_pauses.opened_total + with_pauses.target_minutes + with_pauses.due_shift_minutes as due_total
    from with_pauses
),

dated as (
    select
        due.*,
        {{ instant_at_cumulative('due.due_total', 'due.calendar_id', 'due_day') }} as due_at,
        due_day.calendar_source as due_calendar_source
    from due
    left join {{ working_day_reaching('due_day', 'due', 'due.due_total') }}
        on due.has_policy and due.calendar_id <> '7x24'
),

final as (
    select
        ticket_id,
        metric,
        project_id,
        opened_month,
        policy_id,
        calendar_id,
        timezone,
        priority_basis,
        priority_applied,
        target_minutes,
        opened_at,
        done_at,
        case when has_policy then due_at end as due_at,
        round(extract(epoch from measured_until - opened_at) / 60, 2) as elapsed_calendar_minutes,
        round(elapsed_business_minutes, 2) as elapsed_business_minutes,
        round(paused_minutes, 2) as paused_minutes,
        round(elapsed_business_minutes - paused_minutes, 2) as net_minutes,
        case
            when not has_policy then 'no_policy'
            when elapsed_business_minutes - paused_minutes > target_minutes then 'breached'
            when done_at is not null then 'met'
            else 'in_progress'
        end as status,
        case
            when elapsed_business_minutes - paused_minutes > target_minutes
                then round(elapsed_business_minutes - paused_minutes - target_minutes, 2)
        end as breach_minutes,
        is_reopened,
        is_done_at_closing,
        'weekday_fallback' in (until_calendar_source, due_calendar_source) as uses_fallback_calendar,
        {{ as_of() }} as as_of,
        (select batch_id from inputs_through) as measured_through_batch,
        '{{ run_started_at }}'::timestamptz as measured_at
    from dated
)

select * from final
