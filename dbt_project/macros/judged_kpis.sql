{#
  A select of scorecard rows (the columns of marts.kpi_scorecard, in its order) judging the
  KPI results in relation `results` (kpi_code, grain, grain_id, period_type, period_start,
  numerator, denominator): only the periods and grains the catalogue lists for the KPI; the
  most specific target set: the project's own, its department's, the organisation's, else
  the catalogue default (seeds kpi_target_overrides, kpi_catalogue); status, gap and the
  previous period's value. Shared by int_kpi_scorecard_except_loop and kpi_scorecard, which
  judges the improvement loop's KPIs the same way.
#}
{% macro judged_kpis(results) %}
with targeted as (
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
    from {{ results }} as results
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
)

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
{% endmacro %}
