{#
  One row per KPI, grain (organisation | department | project), grain id, period type
  (month | quarter | half_year | year) and period start, for the periods and grains the
  catalogue lists for the KPI. Column names are a contract with BI users: keep them
  stable, add new ones at the end.
  SLA_ATTAINMENT at department and organisation grain is the mean of the project rates
  (SPEC §3, [001 §10]); the ticket-weighted rate is its own KPI code. A zero denominator
  gives no value: status not_applicable, never 0 % or 100 %.
#}
{% set periods = {
    'month': 'month',
    'quarter': "date_trunc('quarter', month)::date",
    'half_year': "(date_trunc('year', month) + case when extract(month from month) > 6 then interval '6 months' else interval '0 months' end)::date",
    'year': "date_trunc('year', month)::date",
} %}

with project_months as (
    select
        kpis.*,
        projects.dept_id
    from {{ ref('int_kpi_project_months') }} as kpis
    inner join {{ ref('dim_projects') }} as projects on kpis.project_id = projects.project_id
),

in_periods as (
    {% for period_type, start in periods.items() %}
    select
        kpi_code,
        project_id,
        dept_id,
        '{{ period_type }}' as period_type,
        {{ start }} as period_start,
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
),

-- Only the periods and grains the catalogue lists for the KPI; the most specific target
-- set: the project's own, its department's, the organisation's, else the catalogue
-- default (seeds kpi_target_overrides, kpi_catalogue).
targeted as (
    select
        results.*,
        case
            when results.denominator is null then results.numerator  -- counts
            when results.denominator <> 0 then round(results.numerator / results.denominator, 6)
        end as value,
        catalogue.comparator,
        coalesce(project_target.target, department_target.target, organisation_target.target, catalogue.target)
            as target,
        case
            when project_target.target is not null then 'project'
            when department_target.target is not null then 'department'
            when organisation_target.target is not null then 'organisation'
            when catalogue.target is not null then 'catalogue'
        end as target_source
    from results
    inner join {{ ref('kpi_catalogue') }} as catalogue
        on results.kpi_code = catalogue.kpi_code
        and results.period_type = any(string_to_array(catalogue.periods, '|'))
        and results.grain = any(string_to_array(catalogue.grains, '|'))
    left join {{ ref('dim_projects') }} as projects
        on results.grain = 'project' and results.grain_id = projects.project_id
    left join {{ ref('kpi_target_overrides') }} as project_target
        on results.kpi_code = project_target.kpi_code
        and project_target.grain = 'project'
        and results.grain = 'project'
        and results.grain_id = project_target.grain_id
    left join {{ ref('kpi_target_overrides') }} as department_target
        on results.kpi_code = department_target.kpi_code
        and department_target.grain = 'department'
        and department_target.grain_id = case results.grain
            when 'project' then projects.dept_id
            when 'department' then results.grain_id
        end
    left join {{ ref('kpi_target_overrides') }} as organisation_target
        on results.kpi_code = organisation_target.kpi_code
        and organisation_target.grain = 'organisation'
        and organisation_target.grain_id = '{{ var("organisation_id") }}'
),

judged as (
    select
        *,
        case comparator
            when '>=' then value >= target
            when '<=' then value <= target
        end as is_met,
        -- Signed distance to the target: negative is short of a ">=" target.
        round(value - target, 6) as gap
    from targeted
),

final as (
    select
        this_period.kpi_code,
        this_period.grain,
        this_period.grain_id,
        this_period.period_type,
        this_period.period_start,
        this_period.numerator,
        this_period.denominator,
        this_period.value,
        this_period.target,
        this_period.is_met,
        this_period.target_source,
        this_period.gap,
        case
            when this_period.value is null then 'not_applicable'
            when this_period.target is null then 'no_target'
            when this_period.is_met then 'met'
            else 'missed'
        end as status,
        previous.value as previous_value
    from judged as this_period
    left join judged as previous
        on this_period.kpi_code = previous.kpi_code
        and this_period.grain = previous.grain
        and this_period.grain_id = previous.grain_id
        and this_period.period_type = previous.period_type
        and previous.period_start = (this_period.period_start - {{ period_interval('this_period.period_type') }})::date
)

select * from final
