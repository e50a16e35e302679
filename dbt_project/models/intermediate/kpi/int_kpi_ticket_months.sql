{#
  The ticket counts behind the ticket KPIs, per project and month, three ways: by the
  month a ticket was opened, resolved, and implemented (a change or release: resolved,
  else closed, else opened). int_kpi_project_months turns them into KPI rows; which
  month a ticket counts in, per KPI: DECISIONS.md "Process KPIs".

  Incremental: recounting a million tickets took seconds every night. A ticket is
  changed when it has a new version or one of its callback answers was recomputed; every
  month it counts or counted in is the month of an opening, resolution or closing in one
  of its versions. So a run recounts, for each project a changed ticket is or was in,
  every month from the earliest of those on, from all the project's tickets that count
  in them. A month left with no ticket is written with zero counts and then deleted
  (post-hook).
#}
-- depends_on: {{ ref('stg_ticket_tool__tickets') }} (read by incremental runs only)
{{ config(
    materialized='incremental',
    unique_key=['project_id', 'counted_by', 'month'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=['delete from {{ this }} where ticket_rows = 0', '{{ analyze_if_written() }}']
) }}
{% set tz = var('timezone') %}
{% set counts = [
    'ticket_rows', 'problem_rows', 'problems_closed', 'incident_rows', 'major_incidents', 'change_rows',
    'changes_succeeded', 'release_rows', 'releases_succeeded', 'resolved_rows', 'reopened', 'called_back',
    'fix_rows', 'fixed_first_time', 'repair_rows', 'repair_hours'
] %}

with inputs_through as (
    {{ inputs_through([
        [ref('fct_tickets'), 'last_batch_id'],
        [ref('int_satisfaction_answers'), 'measured_through_batch']
    ]) }}
),

{% if is_incremental() %}
watermark as (
    {{ previous_inputs_through() }}
),

changed_tickets as (
    select ticket_id from {{ ref('fct_tickets') }}
    where last_batch_id > (select batch_id from watermark)
    union
    select ticket_id from {{ ref('int_satisfaction_answers') }}
    where level = 'callback' and measured_through_batch > (select batch_id from watermark)
),

changed_first_months as (
    select
        ticket_id,
        min(date_trunc('month', least(opened_at, resolved_at, closed_at) at time zone '{{ tz }}'))::date
            as first_month
    from {{ ref('stg_ticket_tool__tickets') }}
    where {{ among('ticket_id', 'select ticket_id from changed_tickets') }}
    group by ticket_id
),

{# Every version, so a ticket that moved to another project recounts the old one too. #}
recount_from as (
    select
        versions.project_id,
        coalesce(min(changed.first_month), '-infinity') as month,
        coalesce(min(changed.first_month), '-infinity')::timestamp at time zone '{{ tz }}' as starts_at
    from {{ ref('stg_ticket_tool__tickets') }} as versions
    inner join changed_first_months as changed on versions.ticket_id = changed.ticket_id
    where versions.project_id is not null
    group by versions.project_id
),
{% endif %}

tickets as (
    select
        fct_tickets.ticket_id,
        fct_tickets.project_id,
        fct_tickets.ticket_type,
        fct_tickets.status,
        fct_tickets.outcome,
        fct_tickets.is_major,
        fct_tickets.reassignment_count,
        fct_tickets.opened_at,
        fct_tickets.resolved_at,
        fct_tickets.opened_month,
        date_trunc('month', fct_tickets.resolved_at at time zone '{{ tz }}')::date as resolved_month,
        date_trunc(
            'month', coalesce(fct_tickets.resolved_at, fct_tickets.closed_at, fct_tickets.opened_at)
            at time zone '{{ tz }}'
        )::date as implemented_month,
        coalesce(fct_tickets.reopen_count, 0) > 0 or fct_tickets.status = 'reopened' as is_reopened
        {% if is_incremental() %}, recount_from.month as recount_from{% endif %}
    from {{ ref('fct_tickets') }} as fct_tickets
    {% if is_incremental() %}
    inner join recount_from
        on fct_tickets.project_id = recount_from.project_id
        and (
            fct_tickets.opened_at >= recount_from.starts_at
            or fct_tickets.resolved_at >= recount_from.starts_at
            or fct_tickets.closed_at >= recount_from.starts_at
        )
    {% endif %}
    where fct_tickets.project_id is not null
),

-- Incidents called back on the day of their resolution or up to 7 days later.
called_back as (
    select distinct tickets.ticket_id
    from tickets
    inner join {{ ref('int_satisfaction_answers') }} as callbacks
        on callbacks.level = 'callback'
        and tickets.ticket_id = callbacks.ticket_id
        and callbacks.responded_date - (tickets.resolved_at at time zone '{{ tz }}')::date between 0 and 7
    {% if is_incremental() %}
    where {{ among('callbacks.ticket_id', 'select ticket_id from tickets') }}
    {% endif %}
),

{# 1 when the ticket is in a KPI's population or meets it; a condition that is null (no
   status, say) is not met. #}
counted as (
    select
        *,
        1 as ticket_row,
        (ticket_type = 'problem')::int as problem_row,
        (ticket_type = 'problem' and status in ('resolved', 'closed'))::int as problem_closed,
        (ticket_type = 'incident')::int as incident_row,
        (ticket_type = 'incident' and is_major)::int as major_incident,
        (ticket_type = 'change' and outcome is not null)::int as change_row,
        (ticket_type = 'change' and outcome = 'success')::int as change_succeeded,
        (ticket_type = 'release' and outcome is not null)::int as release_row,
        (ticket_type = 'release' and outcome = 'success')::int as release_succeeded,
        (ticket_type = 'incident' and resolved_at is not null)::int as resolved_row,
        (ticket_type = 'incident' and resolved_at is not null and is_reopened)::int as is_reopened_row,
        (
            ticket_type = 'incident' and resolved_at is not null
            and ticket_id in (select ticket_id from called_back)
        )::int as called_back_row,
        -- A ticket whose tool exports no reassignment count cannot be judged first-time fixed.
        (ticket_type = 'incident' and resolved_at is not null and reassignment_count is not null)::int as fix_row,
        (ticket_type = 'incident' and resolved_at is not null and reassignment_count = 0 and not is_reopened)::int
            as fixed_first_time_row,
        (ticket_type = 'incident' and resolved_at >= opened_at)::int as repair_row,
        case when ticket_type = 'incident' and resolved_at >= opened_at
                then round(extract(epoch from resolved_at - opened_at) / 3600, 2)
        end as repair_hours_row
    from tickets
),

months as (
    {% for counted_by in ['opened', 'resolved', 'implemented'] %}
    select
        project_id,
        '{{ counted_by }}' as counted_by,
        {{ counted_by }}_month as month,
        count(*) as ticket_rows,
        sum(problem_row) as problem_rows,
        sum(problem_closed) as problems_closed,
        sum(incident_row) as incident_rows,
        sum(major_incident) as major_incidents,
        sum(change_row) as change_rows,
        sum(change_succeeded) as changes_succeeded,
        sum(release_row) as release_rows,
        sum(release_succeeded) as releases_succeeded,
        sum(resolved_row) as resolved_rows,
        sum(is_reopened_row) as reopened,
        sum(called_back_row) as called_back,
        sum(fix_row) as fix_rows,
        sum(fixed_first_time_row) as fixed_first_time,
        sum(repair_row) as repair_rows,
        sum(repair_hours_row) as repair_hours
    from counted
    where {{ counted_by }}_month {{ '>= recount_from' if is_incremental() else 'is not null' }}
    group by project_id, {{ counted_by }}_month
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select months.*
    from months
    {% if is_incremental() %}
    {# The months recounted but left with no ticket: zero counts replace their rows. #}
    union all
    select
        previous.project_id,
        previous.counted_by,
        previous.month,
        {{ (['0'] * counts | length) | join(', ') }}
    from {{ this }} as previous
    inner join recount_from
        on previous.project_id = recount_from.project_id
        and previous.month >= recount_from.month
    where not exists (
            select 1 from months
            where months.project_id = previous.project_id
                and months.counted_by = previous.counted_by
                and months.month = previous.month
        )
    {% endif %}
)

select
    final.*,
    (select batch_id from inputs_through) as measured_through_batch
from final
