{#
  One row per SLA-measured ticket and metric that spent time in a pause status of its
  policy (seeds/sla_pause_statuses.csv) while its clock ran, from opening to done or the
  as-of moment: paused_minutes, the business minutes of those intervals, and
  due_shift_minutes, the part that moves the due time (the pauses that began before the
  net clock reached the target: a ticket already late stays late). Rules: DECISIONS.md,
  "SLA engine", "Pauses".

  Ephemeral, read by fct_ticket_sla alone: a night computes it for the tickets it
  measures, as part of that model's query, whose filter on ticket_id reaches the status
  history's ticket index through the window below (it is partitioned by ticket); their
  targets are then looked up by ticket and metric. A node of its own would cost every
  night time and compute nothing more.
#}
{{ config(materialized='ephemeral') }}
with targets as (
    select * from {{ ref('int_sla_targets_applied') }}
    where has_policy
),

policies as (
    select * from {{ ref('int_sla_policies_deduplicated') }}
),

pause_statuses as (
    {{ rows_for_policy('sla_pause_statuses', 'policies', ['status']) }}
),

status_intervals as (
    select
        ticket_id,
        status,
        changed_at as started_at,
        lead(changed_at) over (partition by ticket_id order by changed_at) as ended_at
    from {{ ref('int_ticket_status_history_derived') }}
),

{# Each interval in a pause status, clipped to the metric's clock. #}
pauses as (
    select
        status_intervals.ticket_id,
        targets.metric,
        targets.calendar_id,
        targets.timezone,
        targets.opened_total,
        targets.target_minutes,
        greatest(status_intervals.started_at, targets.opened_at) as paused_from,
        least(
            coalesce(status_intervals.ended_at, {{ clock_stopped_at('targets.done_at', 'targets.opened_at') }}),
            {{ clock_stopped_at('targets.done_at', 'targets.opened_at') }}
        ) as paused_until
    from status_intervals
    inner join targets on status_intervals.ticket_id = targets.ticket_id
    inner join pause_statuses
        on targets.policy_id = pause_statuses.policy_id
        and status_intervals.status = pause_statuses.status
        and {{ opened_on('targets.opened_at', 'pause_statuses') }}
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

final as (
    select
        ticket_id,
        metric,
        sum(paused_minutes) as paused_minutes,
        -- The net clock when a pause began: business minutes since opening less the pauses before it.
        sum(paused_minutes) filter (
            where start_total - opened_total - paused_before < target_minutes
        ) as due_shift_minutes
    from paused_running
    group by ticket_id, metric
)

select * from final
