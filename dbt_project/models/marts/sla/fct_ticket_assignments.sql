{#
  Grain: ticket × hold, one row per spell an assignment group held an SLA-measured ticket
  (hold_number 1 from opening), until the next group took it or the resolution clock stopped
  (resolved, else the as-of moment: is_open). Groups come from the ticket's versions and
  its assignment history (stg_ticket_tool__assignment_changes, where a tool exports one),
  merged in time order (event-style exports give each reassignment; a snapshot export only
  the groups seen at each export), a change counting from the first record showing the new
  group. held_minutes are business minutes on the group's OLA calendar
  (seeds/ola_targets.csv, else the ticket's policy calendar) less the ticket's pauses in the
  hold (the policy's pause statuses); within_ola judges them against the group's OLA for the
  ticket's priority applied: true or false for an ended hold, false for an open one already
  over it, null without an OLA. Rules: DECISIONS.md, "Assignment holds and OLA".

  Incremental, keyed by ticket: a run recomputes the tickets the SLA engine re-measured
  (new versions, a changed policy), those with new status evidence, and those still held
  (their minutes grow), and those with new assignment history, so the night's cost follows the day's changes and the open tickets.
#}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ delete_tickets_with_new_versions() }}",
    indexes=[
        {'columns': ['ticket_id', 'hold_number'], 'unique': True},
        {'columns': ['project_id', 'opened_month']},
        {'columns': ['is_open']},
        {'columns': ['measured_through_batch']},
        {'columns': ['status_through_batch']},
        {'columns': ['assignments_through_batch']},
        {'columns': ['assignment_group', 'held_until']},
    ],
    post_hook="{{ analyze_if_written() }}"
) }}
-- depends_on: {{ ref('int_sla_policies_deduplicated') }} {{ ref('int_projects_deduplicated') }} (read by the pre-hook)

with
{% if is_incremental() %}
touched as (
    select ticket_id from {{ ref('int_sla_targets_applied') }}
    where measured_through_batch > (select coalesce(max(measured_through_batch), 0) from {{ this }})
    union
    select ticket_id from {{ ref('int_ticket_status_history_derived') }}
    where last_batch_id > (select coalesce(max(status_through_batch), 0) from {{ this }})
    union
    select ticket_id from {{ ref('stg_ticket_tool__assignment_changes') }}
    where batch_id > (select coalesce(max(assignments_through_batch), 0) from {{ this }})
    union
    select ticket_id from {{ this }}
    where is_open
),
{% endif %}

{# The ticket's clock: its policy's calendar and time zone, its resolution. #}
tickets as (
    select distinct on (targets.ticket_id)
        targets.ticket_id,
        targets.project_id,
        targets.opened_month,
        targets.opened_at,
        targets.policy_id,
        targets.priority_applied,
        targets.calendar_id,
        targets.timezone,
        targets.measured_through_batch,
        latest.resolved_at,
        {{ clock_stopped_at('latest.resolved_at', 'targets.opened_at') }} as stopped_at,
        {{ done_by_as_of('latest.resolved_at') }} is null as is_unresolved
    from {{ ref('int_sla_targets_applied') }} as targets
    inner join {{ ref('int_tickets_latest') }} as latest on targets.ticket_id = latest.ticket_id
    where targets.has_policy
        {% if is_incremental() %}
        and {{ among('targets.ticket_id', 'select ticket_id from touched') }}
        {% endif %}
    order by targets.ticket_id
),

ola as (
    select
        assignment_group,
        priority,
        target_minutes,
        calendar_id,
        coalesce(valid_from, '-infinity') as valid_from,
        coalesce(valid_to, 'infinity') as valid_to
    from {{ ref('ola_targets') }}
),

{# Every record of which group held the ticket when: its versions (one without an update time
   says nothing of when its group took the ticket) and its assignment history. #}
group_records as (
    select
        versions.ticket_id,
        versions.assignment_group,
        versions.updated_at,
        versions.update_sequence,
        versions.batch_id,
        versions.source_row
    from {{ ref('stg_ticket_tool__tickets') }} as versions
    inner join tickets on versions.ticket_id = tickets.ticket_id
    where versions.assignment_group is not null and versions.updated_at is not null
    union all
    select
        history.ticket_id,
        history.assignment_group,
        history.changed_at,
        null,
        history.batch_id,
        history.source_row
    from {{ ref('stg_ticket_tool__assignment_changes') }} as history
    inner join tickets on history.ticket_id = tickets.ticket_id
),

versions as (
    select
        *,
        lag(assignment_group) over (
            partition by ticket_id
            order by updated_at, update_sequence nulls first, batch_id, source_row
        ) as previous_group
    from group_records
),

changes as (
    select
        ticket_id,
        assignment_group,
        updated_at as changed_at,
        row_number() over in_order as hold_number,
        lead(updated_at) over in_order as next_changed_at
    from versions
    where previous_group is distinct from assignment_group
    window in_order as (
        partition by ticket_id order by updated_at, update_sequence nulls first, batch_id, source_row
    )
),

spells as (
    select
        changes.ticket_id,
        changes.hold_number,
        changes.assignment_group,
        tickets.project_id,
        tickets.opened_month,
        tickets.opened_at,
        tickets.policy_id,
        tickets.priority_applied,
        tickets.timezone,
        tickets.measured_through_batch,
        -- The first group seen holds the ticket from its opening (a snapshot export may first show
        -- the group that resolved it); a change stamped before the opening counts from the opening.
        case
            when changes.hold_number = 1 then tickets.opened_at
            else greatest(changes.changed_at, tickets.opened_at)
        end as held_from,
        least(coalesce(changes.next_changed_at, tickets.stopped_at), tickets.stopped_at) as held_to,
        -- Still held at the as-of moment: no later change by then (a version of the night's export may
        -- already be stamped after it), and not resolved.
        tickets.is_unresolved and coalesce(changes.next_changed_at >= tickets.stopped_at, true) as is_open,
        -- The group's row for the priority, else its `*` row: target and calendar from the same row.
        case when own.assignment_group is not null then own.target_minutes else every_priority.target_minutes end
            as ola_target_minutes,
        coalesce(
            case when own.assignment_group is not null then own.calendar_id else every_priority.calendar_id end,
            tickets.calendar_id
        ) as calendar_id
    from changes
    inner join tickets on changes.ticket_id = tickets.ticket_id
    left join ola as own
        on changes.assignment_group = own.assignment_group
        and tickets.priority_applied = own.priority
        and {{ opened_on('tickets.opened_at', 'own') }}
    left join ola as every_priority
        on changes.assignment_group = every_priority.assignment_group
        and every_priority.priority = '*'
        and {{ opened_on('tickets.opened_at', 'every_priority') }}
    -- A later group that took the ticket only after its clock stopped held none of it.
    where changes.hold_number = 1 or changes.changed_at < tickets.stopped_at
),

holds as (
    select
        *,
        greatest(held_to, held_from) as clock_until
    from spells
),

pause_statuses as (
    {{ rows_for_policy('sla_pause_statuses', 'tickets', ['status']) }}
),

status_intervals as (
    select
        ticket_id,
        status,
        changed_at,
        lead(changed_at) over (partition by ticket_id order by changed_at) as next_changed_at
    from {{ ref('int_ticket_status_history_derived') }}
    where {{ among('ticket_id', 'select ticket_id from tickets') }}
),

status_evidence_through as (
    select coalesce(max(last_batch_id), 0) as batch_id
    from {{ ref('int_ticket_status_history_derived') }}
),

assignment_history_through as (
    select coalesce(max(batch_id), 0) as batch_id
    from {{ ref('stg_ticket_tool__assignment_changes') }}
),

{# The ticket's time in a pause status of its policy, clipped to each hold. #}
paused_in_holds as (
    select
        holds.ticket_id,
        holds.hold_number,
        holds.calendar_id,
        holds.timezone,
        greatest(history.changed_at, holds.held_from) as paused_from,
        least(coalesce(history.next_changed_at, holds.clock_until), holds.clock_until) as paused_until
    from holds
    inner join status_intervals as history on holds.ticket_id = history.ticket_id
    inner join pause_statuses
        on holds.policy_id = pause_statuses.policy_id
        and history.status = pause_statuses.status
        and {{ opened_on('holds.opened_at', 'pause_statuses') }}
),

paused_minutes as (
    select
        paused.ticket_id,
        paused.hold_number,
        sum(
            {{ cumulative_minutes('paused.paused_until', 'paused.calendar_id', 'until_day') }}
            - {{ cumulative_minutes('paused.paused_from', 'paused.calendar_id', 'from_day') }}
        ) as paused_minutes
    from paused_in_holds as paused
    left join {{ calendar_day_of('from_day', 'paused', 'paused.paused_from') }}
    left join {{ calendar_day_of('until_day', 'paused', 'paused.paused_until') }}
    where paused.paused_until > paused.paused_from
    group by paused.ticket_id, paused.hold_number
),

measured as (
    select
        holds.*,
        round(
            {{ cumulative_minutes('holds.clock_until', 'holds.calendar_id', 'until_day') }}
            - {{ cumulative_minutes('holds.held_from', 'holds.calendar_id', 'from_day') }}
            - coalesce(paused_minutes.paused_minutes, 0),
            2
        ) as held_minutes,
        round(coalesce(paused_minutes.paused_minutes, 0), 2) as paused_minutes
    from holds
    left join paused_minutes
        on holds.ticket_id = paused_minutes.ticket_id
        and holds.hold_number = paused_minutes.hold_number
    left join {{ calendar_day_of('from_day', 'holds', 'holds.held_from') }}
    left join {{ calendar_day_of('until_day', 'holds', 'holds.clock_until') }}
),

final as (
    select
        ticket_id,
        hold_number,
        assignment_group,
        project_id,
        opened_month,
        priority_applied,
        held_from,
        case when not is_open then clock_until end as held_until,
        is_open,
        calendar_id,
        held_minutes,
        paused_minutes,
        ola_target_minutes,
        case
            when ola_target_minutes is null then null
            when held_minutes > ola_target_minutes then false
            when not is_open then true
        end as within_ola,
        measured_through_batch,
        (select batch_id from status_evidence_through) as status_through_batch,
        (select batch_id from assignment_history_through) as assignments_through_batch
    from measured
)

select * from final
