{#
  The improvement register (SPEC §3, [001 §6.3(4), §9]): one row per KPI missed in its
  tracking period (the first period its catalogue row lists: month for month-tracked
  KPIs, year for annual ones), and one per project month whose SLA attainment is below
  var('sla_review_threshold'), flagged for an ad-hoc review [004 §6.4.3]. Each has an
  owner (the project manager, the department, or var('organisation_owner')) and a due
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
    select 'kpi_missed' as kind, scorecard.*
    from scorecard
    inner join {{ ref('kpi_catalogue') }} as catalogue
        on scorecard.kpi_code = catalogue.kpi_code
        and scorecard.period_type = split_part(catalogue.periods, '|', 1)
    where scorecard.status = 'missed'
),

sla_reviews as (
    select 'sla_review' as kind, *
    from scorecard
    where kpi_code = 'SLA_ATTAINMENT' and grain = 'project' and period_type = 'month'
      and value < {{ var('sla_review_threshold') }}
),

items as (
    select * from missed
    union all
    select * from sla_reviews
),

final as (
    select
        md5(concat_ws('|', items.kind, items.kpi_code, items.grain, items.grain_id, items.period_type,
                      items.period_start)) as item_id,
        items.kind,
        items.kpi_code,
        items.grain,
        items.grain_id,
        items.period_type,
        items.period_start,
        items.value,
        items.target,
        items.gap,
        case items.grain
            when 'project' then projects.project_manager
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
