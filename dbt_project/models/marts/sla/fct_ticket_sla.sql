{#
  One row per SLA-measured ticket and metric (response, onsite, resolution): the policy
  and priority that set the target, elapsed calendar and business minutes, paused
  minutes, due time and status (met, breached, in_progress, no_policy). The targets come
  from int_sla_targets_applied and the pauses from int_sla_pauses_summed; here the clock
  stops (when done, else at the as-of moment), and the due instant and the status are
  found. Rules and worked examples: DECISIONS.md, "SLA engine". A breach the customer's
  representative exempted (int_sla_exemptions_latest) keeps its status, the engine's
  verdict, and gets counted_status, what the counts use: met or exempted per the policy's
  exemption_counting (DECISIONS.md, "SLA exemptions"). Where the ticket tool keeps an SLA
  record of the metric and its source runs on the tool's clock, status and due_at are the
  tool's and engine_status is ours (DECISIONS.md, "The tool's SLA records").

  Incremental: a run re-measures the tickets with a newer version, new status changes or
  new SLA records of the tool since the last run, those a changed policy version judges, the tickets with a metric
  still open (their status depends on the as-of moment) or a due time still ahead, and the
  tickets of exemptions entered since (the old and the new ticket of an exemption moved to
  another); the rest of history is not touched, and the inputs are read for those tickets
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
        [ref('stg_sla__exemptions'), 'batch_id'],
        [ref('stg_pmo__sla_policies'), 'batch_id'],
        [ref('stg_ticket_tool__sla_records'), 'batch_id']
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
    select ticket_id from {{ ref('stg_ticket_tool__sla_records') }}
    where batch_id > (select batch_id from watermark)
    union
    select ticket_id from {{ ref('stg_sla__exemptions') }}
    where exemption_id in (
            select exemption_id from {{ ref('stg_sla__exemptions') }}
            where batch_id > (select batch_id from watermark)
        )
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
        targets.is_done_at_closing,
        targets.done_at_source,
        targets.sla_clock,
        -- The tool's verdict as it stood at the as-of moment: a breach not yet due, or a record
        -- not yet over, was still in progress.
        case
            when targets.tool_status = 'breached' and coalesce(targets.tool_due_at <= {{ as_of() }}, true)
                then 'breached'
            when targets.tool_status = 'met' and targets.tool_done_by <= {{ as_of() }} then 'met'
            when targets.tool_status is not null then 'in_progress'
        end as tool_status,
        targets.tool_due_at
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

engine_judged as (
    select
        dated.*,
        case
            when not dated.has_policy then 'no_policy'
            when dated.elapsed_business_minutes - dated.paused_minutes > dated.target_minutes then 'breached'
            when dated.done_at is not null then 'met'
            else 'in_progress'
        end as engine_status
    from dated
),

{# Under the tool's clock (a source setting) the tool's verdict and breach time stand where it
   has a record; our engine's verdict stays beside it (DECISIONS.md, "The tool's SLA records"). #}
judged as (
    select
        engine_judged.*,
        engine_judged.sla_clock = 'tool' and engine_judged.has_policy and engine_judged.tool_status is not null
            as is_tool_judged,
        case
            when engine_judged.sla_clock = 'tool' and engine_judged.has_policy and engine_judged.tool_status is not null
                then engine_judged.tool_status
            else engine_judged.engine_status
        end as status
    from engine_judged
),

{# The exemption of each breached metric: one for the metric itself before one for all of
   the ticket's metrics, then the latest approved. #}
exempted as (
    select distinct on (judged.ticket_id, judged.metric)
        judged.ticket_id,
        judged.metric,
        judged.policy_id,
        exemptions.exemption_id,
        exemptions.reason_category
    from judged
    inner join {{ ref('int_sla_exemptions_latest') }} as exemptions
        on judged.ticket_id = exemptions.ticket_id
        and exemptions.metric in (judged.metric, 'all')
    where judged.status = 'breached'
    order by
        judged.ticket_id asc,
        judged.metric asc,
        exemptions.metric = judged.metric desc,
        exemptions.approved_at desc nulls last,
        exemptions.exemption_id asc
),

exemption_counting as (
    {{ rows_for_policy('sla_policy_settings', 'exempted', ['exemption_counting']) }}
),

final as (
    select
        judged.ticket_id,
        judged.metric,
        judged.project_id,
        judged.opened_month,
        judged.policy_id,
        judged.calendar_id,
        judged.timezone,
        judged.priority_basis,
        judged.priority_applied,
        judged.target_minutes,
        judged.opened_at,
        judged.done_at,
        case
            when judged.is_tool_judged then coalesce(judged.tool_due_at, judged.due_at)
            when judged.has_policy then judged.due_at
        end as due_at,
        round(extract(epoch from judged.measured_until - judged.opened_at) / 60, 2) as elapsed_calendar_minutes,
        round(judged.elapsed_business_minutes, 2) as elapsed_business_minutes,
        round(judged.paused_minutes, 2) as paused_minutes,
        round(judged.elapsed_business_minutes - judged.paused_minutes, 2) as net_minutes,
        judged.status,
        case
            when judged.status = 'breached'
                then round(
                        greatest(judged.elapsed_business_minutes - judged.paused_minutes - judged.target_minutes, 0), 2
                    )
        end as breach_minutes,
        judged.sla_clock,
        judged.engine_status,
        judged.tool_status,
        judged.tool_due_at,
        judged.done_at_source,
        judged.is_reopened,
        judged.is_done_at_closing,
        'weekday_fallback' in (judged.until_calendar_source, judged.due_calendar_source) as uses_fallback_calendar,
        exempted.exemption_id is not null as is_exempted,
        exempted.exemption_id,
        exempted.reason_category as exemption_reason_category,
        exemption_counting.exemption_counting,
        case
            when exempted.exemption_id is null then judged.status
            when exemption_counting.exemption_counting = 'counted_met' then 'met'
            else 'exempted'
        end as counted_status,
        {{ as_of() }} as as_of,
        (select batch_id from inputs_through) as measured_through_batch,
        '{{ run_started_at }}'::timestamptz as measured_at
    from judged
    left join exempted
        on judged.ticket_id = exempted.ticket_id
        and judged.metric = exempted.metric
    left join exemption_counting
        on exempted.policy_id = exemption_counting.policy_id
        and {{ opened_on('judged.opened_at', 'exemption_counting') }}
)

select * from final
