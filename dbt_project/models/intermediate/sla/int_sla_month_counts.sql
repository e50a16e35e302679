{#
  SLA counts per project, month opened, priority applied and metric (response, onsite,
  resolution, and 'all' for the ticket's overall sla_status): the finest grain of
  sla_attainment_monthly, which adds them up to departments and the organisation. The
  statuses are counted after exemptions (fct_ticket_sla.counted_status, fct_tickets.sla_status);
  met and breached before them too, for attainment before exemptions.

  Incremental: counting 3.4 million ticket metrics took seconds every night. A run
  recounts every project and month that a ticket is or was in (any of its versions) if
  it has a new version or was measured again since the last run, from all the tickets in
  it. A project and month left with no ticket is written with zero counts and then
  deleted (post-hook). Tickets without a project are few and recounted every run: their
  rows are dropped first (pre-hook), as delete+insert cannot match a null key.
#}
-- depends_on: {{ ref('stg_ticket_tool__tickets') }} (read by incremental runs only)
{{ config(
    materialized='incremental',
    unique_key=['project_id', 'opened_month'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[{'columns': ['project_id', 'opened_month', 'priority_group', 'metric'], 'unique': True}],
    pre_hook="{% if is_incremental() %}delete from {{ this }} where project_id is null{% endif %}",
    post_hook=['delete from {{ this }} where met + breached + in_progress + no_policy + exempted = 0', '{{ analyze_if_written() }}']
) }}
{% set tz = var('timezone') %}

with inputs_through as (
    {{ fct_tickets_through() }}
),

{% if is_incremental() %}
watermark as (
    {{ previous_fct_tickets_through() }}
),

changed_tickets as (
    {{ fct_tickets_changed_since('watermark', 'ticket_id, project_id, opened_month') }}
),

{# Every version, so a ticket that moved to another project or month recounts the old one too. #}
recount as (
    select
        project_id,
        opened_month
    from changed_tickets
    where project_id is not null
    union
    select
        project_id,
        date_trunc('month', opened_at at time zone '{{ tz }}')::date
    from {{ ref('stg_ticket_tool__tickets') }}
    where {{ among('ticket_id', 'select ticket_id from changed_tickets') }}
        and project_id is not null and opened_at is not null
),
{% endif %}

{# The recounted rows of each source, through its (project_id, opened_month) index: the
   planner cannot tell how few pairs `recount` holds, and joined on them alone it read the
   whole index (4.4 s at 1M). #}
{% for source in ['fct_ticket_sla', 'fct_tickets'] %}
{{ source }}_recounted as (
    select * from {{ ref(source) }}
    {% if is_incremental() %}
    where project_id is null
    union all
    select recounted.*
    from {{ ref(source) }} as recounted
    inner join recount
        on recounted.project_id = recount.project_id
        and recounted.opened_month = recount.opened_month
    where {{ among('recounted.project_id', 'select project_id from recount') }}
        and recounted.opened_month >= (select min(opened_month) from recount)
    {% endif %}
),
{% endfor %}

metric_rows as (
    select
        project_id,
        opened_month,
        priority_applied as priority,
        metric,
        counted_status as status,
        status as status_before_exemptions,
        is_reopened,
        uses_fallback_calendar
    from fct_ticket_sla_recounted
    union all
    select
        project_id,
        opened_month,
        coalesce(sla_priority, priority),
        'all',
        sla_status,
        sla_status_before_exemptions,
        coalesce(reopen_count, 0) > 0 or status = 'reopened',
        uses_fallback_calendar
    from fct_tickets_recounted
    where sla_status <> 'not_measured'
),

counts as (
    select
        project_id,
        opened_month,
        coalesce(priority, 'unknown') as priority_group,
        metric,
        count(*) filter (where status = 'met') as met,
        count(*) filter (where status = 'breached') as breached,
        count(*) filter (where status = 'in_progress') as in_progress,
        count(*) filter (where status = 'no_policy') as no_policy,
        count(*) filter (where status = 'exempted') as exempted,
        count(*) filter (where status_before_exemptions = 'met') as met_before_exemptions,
        count(*) filter (where status_before_exemptions = 'breached') as breached_before_exemptions,
        count(*) filter (where is_reopened) as reopened,
        bool_or(uses_fallback_calendar) as uses_fallback_calendar
    from metric_rows
    group by project_id, opened_month, coalesce(priority, 'unknown'), metric
),

final as (
    select * from counts
    {% if is_incremental() %}
    {# The projects and months recounted but left with no ticket: zero counts replace their rows. #}
    union all
    select
        recount.project_id,
        recount.opened_month,
        'unknown',
        'all',
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        false
    from recount
    where not exists (
            select 1 from counts
            where counts.project_id = recount.project_id and counts.opened_month = recount.opened_month
        )
    {% endif %}
)

select
    final.*,
    {{ fct_tickets_stamps('inputs_through') }}
from final
