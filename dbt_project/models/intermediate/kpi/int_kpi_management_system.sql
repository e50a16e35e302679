{#
  The management-system KPIs, computed at their own grain and period (not summed from
  projects): AUDIT_COVERAGE, AUDIT_IN_APRIL, FINDING_CLOSURE, MGMT_REVIEW_HELD,
  PROCESS_SELF_ASSESSMENT, PROCESS_REVIEW_QUARTERLY, CUSTOMER_VISIT and EMERGENCY_DRILL,
  for every year (quarter) with any ticket, complaint or register activity, so a year
  without an audit shows 0 rather than nothing. Rules: DECISIONS.md "Management system".
#}
{% set organisation = "'" ~ var('organisation_id') ~ "'" %}

with records as (
    select *, date_trunc('year', held_on)::date as held_year
    from {{ ref('int_quality_records_deduplicated') }}
),

departments as (
    select dept_id from {{ ref('int_departments_deduplicated') }} where is_in_management_system
),

active_months as (
    select distinct month from {{ ref('int_kpi_project_months') }}
    union
    select distinct date_trunc('month', held_on)::date from records where held_on is not null
),

years as (
    select distinct date_trunc('year', month)::date as period_start from active_months
),

quarters as (
    select distinct date_trunc('quarter', month)::date as period_start from active_months
),

audits as (
    -- The audit programme's year as the register states it, else the year it was held.
    select *, coalesce(make_date(audit_year, 1, 1), held_year) as programme_year
    from records where record_type = 'audit'
),

findings as (
    select findings.*, audits.dept_id as audited_dept_id
    from records as findings
    left join audits on findings.audit_id = audits.record_id
    where findings.record_type = 'audit_finding'
),

active_customers as (
    -- Customers with a project running at some time in the year, by the project's department.
    select distinct years.period_start, projects.customer_id, projects.dept_id
    from years
    inner join {{ ref('dim_projects') }} as projects
        on projects.start_date < (years.period_start + interval '1 year')::date
        and (projects.end_date is null or projects.end_date >= years.period_start)
),

visited as (
    select distinct held_year as period_start, customer_id from records where record_type = 'customer_visit'
),

yearly_counts as (
    {% for kpi_code, record_type in [('PROCESS_SELF_ASSESSMENT', 'process_assessment'),
                                     ('EMERGENCY_DRILL', 'emergency_drill')] %}
    select '{{ kpi_code }}' as kpi_code, years.period_start, count(records.record_id)::numeric as numerator
    from years
    left join records on records.record_type = '{{ record_type }}' and records.held_year = years.period_start
    group by years.period_start
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

results as (
    select 'AUDIT_COVERAGE' as kpi_code, 'organisation' as grain, {{ organisation }} as grain_id,
           'year' as period_type, years.period_start,
           count(distinct audits.dept_id)::numeric as numerator,
           (select count(*) from departments)::numeric as denominator
    from years
    left join audits
        on audits.programme_year = years.period_start and audits.dept_id in (select dept_id from departments)
    group by years.period_start

    union all
    select 'AUDIT_IN_APRIL', 'organisation', {{ organisation }}, 'year', years.period_start,
           bool_or(coalesce(extract(month from audits.held_on) = {{ var('audit_planned_month') }}, false))
               ::int::numeric,
           null
    from years
    left join audits on audits.programme_year = years.period_start
    group by years.period_start

    union all
    select 'FINDING_CLOSURE', 'organisation', {{ organisation }}, 'year', years.period_start,
           count(findings.record_id) filter (where findings.closed_on is not null)::numeric,
           count(findings.record_id)::numeric
    from years
    left join findings on findings.held_year = years.period_start
    group by years.period_start

    union all
    select 'FINDING_CLOSURE', 'department', audited_dept_id, 'year', held_year,
           count(*) filter (where closed_on is not null)::numeric, count(*)::numeric
    from findings
    where audited_dept_id is not null and held_year is not null
    group by audited_dept_id, held_year

    union all
    -- Reviews held after the last audit of the year (the review weighs its results).
    select 'MGMT_REVIEW_HELD', 'organisation', {{ organisation }}, 'year', years.period_start,
           count(reviews.record_id)::numeric, null
    from years
    left join (
        select programme_year, max(held_on) as last_audit_on from audits group by programme_year
    ) as last_audits on last_audits.programme_year = years.period_start
    left join records as reviews
        on reviews.record_type = 'management_review'
        and reviews.held_year = years.period_start
        and reviews.held_on > last_audits.last_audit_on
    group by years.period_start

    union all
    select kpi_code, 'organisation', {{ organisation }}, 'year', period_start, numerator, null
    from yearly_counts

    union all
    select 'PROCESS_REVIEW_QUARTERLY', 'organisation', {{ organisation }}, 'quarter', quarters.period_start,
           count(records.record_id)::numeric, null
    from quarters
    left join records
        on records.record_type = 'process_review'
        and date_trunc('quarter', records.held_on)::date = quarters.period_start
    group by quarters.period_start

    union all
    select 'CUSTOMER_VISIT',
           case when grouping(active_customers.dept_id) = 0 then 'department' else 'organisation' end,
           coalesce(active_customers.dept_id, {{ organisation }}),
           'year', active_customers.period_start,
           count(distinct visited.customer_id)::numeric,
           count(distinct active_customers.customer_id)::numeric
    from active_customers
    left join visited
        on visited.period_start = active_customers.period_start
        and visited.customer_id = active_customers.customer_id
    group by grouping sets ((active_customers.period_start, active_customers.dept_id), (active_customers.period_start))
)

select * from results
