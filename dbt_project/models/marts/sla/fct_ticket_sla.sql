{#
  One row per SLA-measured ticket and metric (response, onsite, resolution): the policy
  and priority that set the target, elapsed calendar and business minutes, paused
  minutes, due time and status (met, breached, in_progress, no_policy). The targets come
  from int_sla_targets_applied and the pauses from int_sla_pauses_summed; here the clock
  stops (when done, else at the as-of moment), and the due instant and the status are
  found. Rules and worked examples: DECISIONS.md, "SLA engine".

  Incremental: a run re-measures the tickets with a newer version or new status changes
  since the last run, those a changed policy version judges, and the tickets with a
  metric still open (their status depends on the as-of moment) or a due time still
  ahead; the rest of history is not touched, and both inputs are read for those tickets
  only.
#}
{# Indexed by ticket for the incremental runs, and by project and month for the reports, which
   read one project's month at a time (an incremental table gets new indexes on a --full-refresh).
   The pre-hook drops the rows of every ticket with a new version before they are measured
   again (macros/batch_watermark.sql).
   The batch stamp's index finds where a run starts without reading every row. #}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ delete_tickets_with_new_versions() }}",
    indexes=[
        {'columns': ['ticket_id', 'metric'], 'unique': True}, {'columns': ['project_id', 'opened_month']},
        {'columns': ['measured_through_batch']}
    ]
) }}

-- depends_on: {{ ref('int_sla_policies_deduplicated') }}, {{ ref('int_projects_deduplicated') }}
with inputs_through as (
    {{ inputs_through([
        [ref('int_tickets_latest'), 'last_batch_id'],
        [ref('stg_ticket_tool__status_changes'), 'batch_id'],
        [ref('stg_pmo__sla_policies'), 'batch_id']
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
    {# A due time still ahead at the last run can move with a calendar change dated after it
       (DECISIONS.md, "Dated policies and calendars"); the last run's rows carry its as-of. #}
    select ticket_id from {{ this }}
    where done_at is null
        or due_at > (
            select max(as_of) from {{ this }}
            where measured_through_batch = (select max(measured_through_batch) from {{ this }})
        )
    union
    select ticket_id from {{ ref('stg_ticket_tool__status_changes') }}
    where batch_id > (select batch_id from watermark)
    union
    {{ tickets_under_changed_policies('select batch_id from watermark') }}
),
{% endif %}

targets as (
    select * from {{ ref('int_sla_targets_applied') }}
    {% if is_incremental() %}
    where {{ among('ticket_id', 'select ticket_id from touched') }}
    {% endif %}
),

{# Summed once, then joined: the planner expects few rows on both sides and may nest the sums
   in a loop over the metric rows, running them again for each (a first version of this split,
   whose sums also read every ticket's targets, took 45 s so for a quiet night's 464 rows at
   100,000 tickets). #}
pauses as materialized (
    select * from {{ ref('int_sla_pauses_summed') }}
    {% if is_incremental() %}
    where {{ among('ticket_id', 'select ticket_id from touched') }}
    {% endif %}
),

stopped as (
    select
        targets.ticket_id,
        targets.metric,
        targets.project_id,
        targets.opened_month,
        targets.opened_at,
        targets.has_policy,
        targets.policy_id,
        targets.calendar_id,
        targets.timezone,
        targets.priority_basis,
        targets.priority_applied,
        targets.target_minutes,
        {{ done_by_as_of('targets.done_at') }} as done_at,
        {{ clock_stopped_at('targets.done_at', 'targets.opened_at') }} as measured_until,
        targets.opened_total,
        targets.is_reopened,
        targets.is_done_at_closing
    from targets
),

clocked as (
    select
        stopped.*,
        {{ cumulative_minutes('stopped.measured_until', 'stopped.calendar_id', 'until_day') }}
        - stopped.opened_total as elapsed_business_minutes,
        until_day.calendar_source as until_calendar_source
    from stopped
    left join {{ calendar_day_of('until_day', 'stopped', 'stopped.measured_until') }}
),

with_pauses as (
    select
        clocked.*,
        coalesce(pauses.paused_minutes, 0) as paused_minutes,
        coalesce(pauses.due_shift_minutes, 0) as due_shift_minutes
    from clocked
    left join pauses
        on clocked.ticket_id = pauses.ticket_id
        and clocked.metric = pauses.metric
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
