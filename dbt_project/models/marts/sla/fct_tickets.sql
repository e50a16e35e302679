{#
  One row per ticket: its latest version, SLA targets, durations and statuses.
  Incremental: a run reads only raw batches newer than the table's newest batch, plus
  the tickets still in progress (their status depends on as_of, not on new data), so
  the nightly cost follows the day's changes, not the history. Versions are ranked by
  updated_at, then update_sequence (event-style exports), then load order; a late batch
  carrying an older version never overwrites a newer one.
  SLA durations here are on a 7x24 calendar (business calendars: see DECISIONS.md).
#}
{{ config(materialized='incremental', unique_key='ticket_id', on_schema_change='fail') }}

{% set ticket_columns = [
    'ticket_id', 'ticket_type', 'project_id', 'priority', 'category', 'opened_at',
    'responded_at', 'onsite_arrived_at', 'resolved_at', 'closed_at', 'status',
    'reassignment_count', 'reopen_count', 'is_major', 'delivery_mode', 'outcome',
    'related_problem_id', 'updated_at', 'update_sequence', 'batch_id'
] %}

with new_rows as (
    select * from {{ ref('stg_ticket_tool__tickets') }}
    {% if is_incremental() %}
    where batch_id > (select coalesce(max(batch_id), 0) from {{ this }})
    {% endif %}
),

latest_versions as (
    select distinct on (ticket_id) *
    from new_rows
    order by ticket_id, {{ version_order() }}
),

{% if is_incremental() %}
newer_versions as (
    select latest_versions.*
    from latest_versions
    left join {{ this }} as current_tickets
        on latest_versions.ticket_id = current_tickets.ticket_id
    where current_tickets.ticket_id is null
        or {{ version_key('latest_versions') }} >= {{ version_key('current_tickets') }}
),

still_in_progress as (
    select {{ ticket_columns | join(', ') }}
    from {{ this }}
    where sla_status = 'in_progress'
        and ticket_id not in (select ticket_id from newer_versions)
),

tickets as (
    select {{ ticket_columns | join(', ') }} from newer_versions
    union all
    select * from still_in_progress
),
{% else %}
tickets as (
    select {{ ticket_columns | join(', ') }} from latest_versions
),
{% endif %}

projects as (
    select * from {{ ref('int_projects_deduplicated') }}
),

policies as (
    select * from {{ ref('int_sla_policies_deduplicated') }}
),

measured as (
    select
        tickets.*,
        -- Problems, changes and releases have no response/resolution SLA (DECISIONS.md).
        tickets.ticket_type in ('incident', 'service_request') as is_sla_measured
    from tickets
),

targeted as (
    select
        measured.*,
        projects.sla_policy_id,
        policies.policy_id is not null as has_policy,
        case when is_sla_measured then policies.response_target_minutes end as response_target_minutes,
        case when is_sla_measured and delivery_mode = 'onsite' then policies.onsite_target_minutes end
            as onsite_target_minutes,
        case when is_sla_measured then policies.resolution_target_minutes end as resolution_target_minutes
    from measured
    left join projects on measured.project_id = projects.project_id
    left join policies
        on projects.sla_policy_id = policies.policy_id
        and measured.priority = policies.priority
),

timed as (
    select
        *,
        opened_at + response_target_minutes * interval '1 minute' as response_due_at,
        opened_at + onsite_target_minutes * interval '1 minute' as onsite_due_at,
        opened_at + resolution_target_minutes * interval '1 minute' as resolution_due_at,
        {{ minutes_between('opened_at', 'responded_at') }} as response_minutes,
        {{ minutes_between('opened_at', 'onsite_arrived_at') }} as onsite_minutes,
        {{ minutes_between('opened_at', 'resolved_at') }} as resolution_minutes
    from targeted
),

judged as (
    select
        *,
        {{ sla_metric_status('responded_at', 'response_due_at') }} as response_status,
        {{ sla_metric_status('onsite_arrived_at', 'onsite_due_at') }} as onsite_status,
        {{ sla_metric_status('resolved_at', 'resolution_due_at') }} as resolution_status
    from timed
),

final as (
    select
        *,
        case
            when not is_sla_measured then 'not_measured'
            when not has_policy then 'no_policy'
            when 'breached' in (response_status, onsite_status, resolution_status) then 'breached'
            when 'in_progress' in (response_status, onsite_status, resolution_status) then 'in_progress'
            else 'met'
        end as sla_status,
        date_trunc('month', opened_at at time zone '{{ var("timezone") }}')::date as opened_month
    from judged
)

select * from final
