{#
  The improvement register (SPEC §3, [001 §6.3(4), §9]): one row per KPI missed in its
  tracking period (the first period its catalogue row lists: month for month-tracked
  KPIs, year for annual ones), and one per project month whose SLA attainment is below
  var('sla_review_threshold') and one per major complaint, flagged for an ad-hoc review
  [004 §6.4.3]. Each has an
  owner (the project manager's pseudonym, the department, or var('organisation_owner')) and a due
  date var('improvement_due_days') days after the period ends; cause analysis and
  corrective action are for the owner to fill in.
#}
with scorecard as (
    select
        scorecard.*,
        (scorecard.period_start + {{ period_interval('scorecard.period_type') }})::date as period_end
    from {{ ref('kpi_scorecard') }} as scorecard
),

missed as (
    select
        'kpi_missed' as kind,
        scorecard.*,
        null as complaint_id
    from scorecard
    inner join {{ ref('kpi_catalogue') }} as catalogue
        on scorecard.kpi_code = catalogue.kpi_code
        and scorecard.period_type = split_part(catalogue.periods, '|', 1)
    where scorecard.status = 'missed'
),

sla_reviews as (
    select
        'sla_review' as kind,
        *,
        null as complaint_id
    from scorecard
    where kpi_code = 'SLA_ATTAINMENT' and grain = 'project' and period_type = 'month'
        and value < {{ var('sla_review_threshold') }}
),

major_complaints as (
    select
        'major_complaint' as kind,
        'COMPLAINT_CLOSURE' as kpi_code,
        case when project_id is null then 'organisation' else 'project' end as grain,
        coalesce(project_id, '{{ var("organisation_id") }}') as grain_id,
        'month' as period_type,
        received_month as period_start,
        (received_month + interval '1 month')::date as period_end,
        null::numeric as value,
        null::numeric as target,
        null::numeric as gap,
        complaint_id
    from {{ ref('fct_complaints') }}
    where is_major
),

items as (
    {% for relation in ['missed', 'sla_reviews', 'major_complaints'] %}
    select
        kind,
        kpi_code,
        grain,
        grain_id,
        period_type,
        period_start,
        period_end,
        value,
        target,
        gap,
        complaint_id
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        md5(concat_ws(
            '|', items.kind, items.kpi_code, items.grain, items.grain_id, items.period_type,
            items.period_start, items.complaint_id
        )) as item_id,
        items.kind,
        items.complaint_id,
        items.kpi_code,
        items.grain,
        items.grain_id,
        items.period_type,
        items.period_start,
        items.value,
        items.target,
        items.gap,
        case items.grain
            when 'project' then projects.project_manager_key
            when 'department' then departments.department_name
            else '{{ var("organisation_owner") }}'
        end as owner,
        items.period_end + {{ var('improvement_due_days') }} as due_date,
        null::text as cause_analysis,
        null::text as corrective_action
    from items
    left join {{ ref('dim_projects') }} as projects
        on items.grain = 'project' and items.grain_id = projects.project_id
    left join {{ ref('int_departments_deduplicated') }} as departments
        on items.grain = 'department' and items.grain_id = departments.dept_id
)

select * from final
