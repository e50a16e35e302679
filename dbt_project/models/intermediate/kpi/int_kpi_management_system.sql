{#
  The management-system KPIs, computed at their own grain and period (not summed from
  projects): AUDIT_COVERAGE, AUDIT_IN_APRIL, FINDING_CLOSURE, MGMT_REVIEW_HELD,
  PROCESS_SELF_ASSESSMENT, PROCESS_REVIEW_QUARTERLY, CUSTOMER_VISIT and EMERGENCY_DRILL,
  for every year (quarter) of int_kpi_periods, so a year without an audit shows 0
  rather than nothing. Rules: DECISIONS.md "Management system".
#}
{% set organisation = "'" ~ var('organisation_id') ~ "'" %}

with records as (
    select
        *,
        date_trunc('year', held_on)::date as held_year
    from {{ ref('int_quality_records_deduplicated') }}
),

departments as (
    select dept_id from {{ ref('int_departments_deduplicated') }}
    where is_in_management_system
),

years as (
    select period_start from {{ ref('int_kpi_periods') }}
    where period_type = 'year'
),

quarters as (
    select period_start from {{ ref('int_kpi_periods') }}
    where period_type = 'quarter'
),

audits as (
    -- The audit programme's year as the register states it, else the year it was held.
    select
        *,
        coalesce(make_date(audit_year, 1, 1), held_year) as programme_year
    from records
    where record_type = 'audit'
),

findings as (
    select
        findings.*,
        audits.dept_id as audited_dept_id
    from records as findings
    left join audits on findings.audit_id = audits.record_id
    where findings.record_type = 'audit_finding'
),

project_years as (
    select project_years.*
    from {{ ref('int_project_years') }} as project_years
    inner join years on project_years.year_start = years.period_start
),

visited as (
    select distinct
        held_year as period_start,
        customer_id
    from records
    where record_type = 'customer_visit'
),

-- A review weighs the latest year whose audits and annual survey are both behind it.
milestones as (
    select
        years.period_start,
        (
            select max(audits.held_on) from audits
            where audits.programme_year = years.period_start
        ) as last_audit_on,
        (
            select max(answers.responded_date) from {{ ref('int_satisfaction_answers') }} as answers
            where answers.level = 'annual' and answers.responded_date >= years.period_start
                and answers.responded_date < (years.period_start + interval '1 year')::date
        )
            as last_survey_on
    from years
),

credited_reviews as (
    select distinct on (reviews.record_id)
        reviews.record_id,
        milestones.period_start as programme_year
    from records as reviews
    inner join milestones
        on reviews.held_on > milestones.last_audit_on and reviews.held_on > milestones.last_survey_on
    where reviews.record_type = 'management_review'
    order by reviews.record_id asc, milestones.period_start desc
),

-- A drill's scope names the project or department it exercised; any other scope is the organisation's.
drills as (
    select
        records.held_year,
        records.record_id,
        projects.project_id,
        coalesce(projects.dept_id, scoped_departments.dept_id) as dept_id
    from records
    left join {{ ref('int_projects_deduplicated') }} as projects on records.scope = projects.project_id
    left join {{ ref('int_departments_deduplicated') }} as scoped_departments
        on records.scope = scoped_departments.dept_id
    where records.record_type = 'emergency_drill'
),

results as (
    select
        'AUDIT_COVERAGE' as kpi_code,
        'organisation' as grain,
        {{ organisation }} as grain_id,
        'year' as period_type,
        years.period_start,
        count(distinct audits.dept_id)::numeric as numerator,
        (select count(*) from departments)::numeric as denominator
    from years
    left join audits
        on years.period_start = audits.programme_year and audits.dept_id in (select dept_id from departments)
    group by years.period_start

    union all
    select
        'AUDIT_IN_APRIL',
        'organisation',
        {{ organisation }},
        'year',
        years.period_start,
        bool_or(
            coalesce(extract(month from audits.held_on) = {{ var('audit_planned_month') }}, false)
        )::int::numeric,
        null
    from years
    left join audits on years.period_start = audits.programme_year
    group by years.period_start

    union all
    select
        'FINDING_CLOSURE',
        'organisation',
        {{ organisation }},
        'year',
        years.period_start,
        count(findings.record_id) filter (where findings.closed_on is not null)::numeric,
        count(findings.record_id)::numeric
    from years
    left join findings on years.period_start = findings.held_year
    group by years.period_start

    union all
    select
        'FINDING_CLOSURE',
        'department',
        audited_dept_id,
        'year',
        held_year,
        count(*) filter (where closed_on is not null)::numeric,
        count(*)::numeric
    from findings
    where audited_dept_id is not null and held_year is not null
    group by audited_dept_id, held_year

    union all
    select
        'MGMT_REVIEW_HELD',
        'organisation',
        {{ organisation }},
        'year',
        years.period_start,
        count(credited_reviews.record_id)::numeric,
        null
    from years
    left join credited_reviews on years.period_start = credited_reviews.programme_year
    group by years.period_start

    union all
    select
        'PROCESS_SELF_ASSESSMENT',
        'organisation',
        {{ organisation }},
        'year',
        years.period_start,
        count(records.record_id)::numeric,
        null
    from years
    left join records on records.record_type = 'process_assessment' and years.period_start = records.held_year
    group by years.period_start

    union all
    select
        'PROCESS_REVIEW_QUARTERLY',
        'organisation',
        {{ organisation }},
        'quarter',
        quarters.period_start,
        count(records.record_id)::numeric,
        null
    from quarters
    left join records
        on records.record_type = 'process_review'
        and date_trunc('quarter', records.held_on)::date = quarters.period_start
    group by quarters.period_start

    union all
    select
        'EMERGENCY_DRILL',
        'organisation',
        {{ organisation }},
        'year',
        years.period_start,
        count(drills.record_id)::numeric,
        null
    from years
    left join drills on years.period_start = drills.held_year
    group by years.period_start

    union all
    select
        'EMERGENCY_DRILL',
        'department',
        dept_years.dept_id,
        'year',
        dept_years.year_start,
        count(drills.record_id)::numeric,
        null
    from (
        select distinct
            year_start,
            dept_id
        from project_years
        where dept_id is not null
    ) as dept_years
    left join drills on dept_years.year_start = drills.held_year and dept_years.dept_id = drills.dept_id
    group by dept_years.year_start, dept_years.dept_id

    union all
    select
        'EMERGENCY_DRILL',
        'project',
        project_years.project_id,
        'year',
        project_years.year_start,
        count(drills.record_id)::numeric,
        null
    from project_years
    left join drills on project_years.year_start = drills.held_year and project_years.project_id = drills.project_id
    group by project_years.year_start, project_years.project_id

    union all
    select
        'CUSTOMER_VISIT',
        case when grouping(project_years.dept_id) = 0 then 'department' else 'organisation' end,
        coalesce(project_years.dept_id, {{ organisation }}),
        'year',
        project_years.year_start,
        count(distinct visited.customer_id)::numeric,
        count(distinct project_years.customer_id)::numeric
    from project_years
    left join visited
        on project_years.year_start = visited.period_start
        and project_years.customer_id = visited.customer_id
    group by grouping sets ((project_years.year_start, project_years.dept_id), (project_years.year_start))
)

select * from results
