{#
  The scorecard (marts.kpi_scorecard, its columns in its order) of every KPI but the
  improvement loop's: one row per KPI, grain (organisation | department | project), grain
  id, period type (month | quarter | half_year | year) and period start, for the periods
  and grains the catalogue lists for the KPI, judged by macro judged_kpis. The loop's KPIs
  are computed from marts.improvement_items, which opens items for the misses here: they
  join in kpi_scorecard, after it, so neither reads the other.
  SLA_ATTAINMENT at department and organisation grain is the mean of the project rates
  (SPEC §3, [001 §10]); the ticket-weighted rate is its own KPI code. A zero denominator
  gives no value: status not_applicable, never 0 % or 100 %.
#}

with project_months as (
    select
        kpis.*,
        projects.dept_id
    from {{ ref('int_kpi_project_months') }} as kpis
    inner join {{ ref('dim_projects') }} as projects on kpis.project_id = projects.project_id
),

in_periods as (
    {% for period_type in ['month', 'quarter', 'half_year', 'year'] %}
    select
        kpi_code,
        project_id,
        dept_id,
        '{{ period_type }}' as period_type,
        {{ period_start(period_type, 'month') }} as period_start,
        numerator,
        denominator
    from project_months
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

summed as (
    select
        kpi_code,
        {{ grouping_grain() }},
        period_type,
        period_start,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from in_periods
    group by grouping sets (
        (kpi_code, period_type, period_start, project_id),
        (kpi_code, period_type, period_start, dept_id),
        (kpi_code, period_type, period_start)
    )
),

-- Department and organisation SLA attainment: the mean of the rates of their projects
-- that had judged tickets in the period. Grouped from the project rates, never joined
-- back to them: a join on "this department, or any for the organisation" cannot hash and
-- compared every pair of rows (68 s of the model's 72 s in the benchmark, docs/performance.md).
project_attainment as (
    select
        project_id,
        dept_id,
        period_type,
        period_start,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from in_periods
    where kpi_code = 'SLA_ATTAINMENT'
    group by project_id, dept_id, period_type, period_start
),

attainment_means as (
    select
        'SLA_ATTAINMENT' as kpi_code,
        case when grouping(dept_id) = 0 then 'department' else 'organisation' end as grain,
        coalesce(dept_id, '{{ var("organisation_id") }}') as grain_id,
        period_type,
        period_start,
        coalesce(round(sum(numerator / denominator) filter (where denominator > 0), 6), 0) as numerator,
        count(*) filter (where denominator > 0)::numeric as denominator
    from project_attainment
    group by grouping sets ((period_type, period_start, dept_id), (period_type, period_start))
),

-- Year on year change of the mean incident handling time: (this year − last year) / last year.
-- The year before comes from lag(), not a self-join the planner misjudged as one row.
mttr_years as (
    select
        grain,
        grain_id,
        period_type,
        period_start,
        numerator / nullif(denominator, 0) as mean,
        case when lag(period_start) over grain_years = (period_start - interval '1 year')::date
                then lag(numerator / nullif(denominator, 0)) over grain_years
        end as last_year_mean
    from summed
    where kpi_code = 'MTTR' and period_type = 'year'
    window grain_years as (partition by grain, grain_id order by period_start)
),

mttr_trend as (
    select
        'MTTR_TREND' as kpi_code,
        grain,
        grain_id,
        period_type,
        period_start,
        round(mean - last_year_mean, 6) as numerator,
        round(last_year_mean, 6) as denominator
    from mttr_years
),

results as (
    select * from summed
    where kpi_code <> 'SLA_ATTAINMENT' or grain = 'project'
    union all
    select
        'SLA_ATTAINMENT_TICKET_WEIGHTED',
        grain,
        grain_id,
        period_type,
        period_start,
        numerator,
        denominator
    from summed
    where kpi_code = 'SLA_ATTAINMENT' and grain <> 'project'
    union all
    select * from attainment_means
    union all
    select * from mttr_trend
    union all
    select * from {{ ref('int_kpi_management_system') }}
    union all
    select * from {{ ref('int_kpi_satisfaction') }}
)

select * from (
    {{ judged_kpis('results') }}
) as judged
