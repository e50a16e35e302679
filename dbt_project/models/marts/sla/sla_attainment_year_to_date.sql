{#
  One row per project and month: SLA_ATTAINMENT from January to the end of that month
  (what a service report states as 本年累计), so a report of a past month shows the same
  figure however many later months are loaded. The project's monthly counts summed;
  the target and comparator are the year's (kpi_scorecard), so they match its year row.
#}
with project_months as (
    select
        grain_id as project_id,
        period_start as month,
        numerator,
        denominator
    from {{ ref('kpi_scorecard') }}
    where kpi_code = 'SLA_ATTAINMENT' and grain = 'project' and period_type = 'month'
),

cumulative as (
    select
        project_id,
        month,
        sum(numerator) over year_so_far as numerator,
        sum(denominator) over year_so_far as denominator
    from project_months
    window year_so_far as (partition by project_id, date_trunc('year', month) order by month)
),

final as (
    select
        cumulative.project_id,
        cumulative.month,
        cumulative.numerator,
        cumulative.denominator,
        case when cumulative.denominator <> 0 then round(cumulative.numerator / cumulative.denominator, 6) end
            as value,
        year.target,
        case catalogue.comparator
            when '>=' then round(cumulative.numerator / nullif(cumulative.denominator, 0), 6) >= year.target
            when '<=' then round(cumulative.numerator / nullif(cumulative.denominator, 0), 6) <= year.target
        end as is_met
    from cumulative
    inner join {{ ref('kpi_catalogue') }} as catalogue on catalogue.kpi_code = 'SLA_ATTAINMENT'
    left join {{ ref('kpi_scorecard') }} as year
        on year.kpi_code = 'SLA_ATTAINMENT' and year.grain = 'project' and cumulative.project_id = year.grain_id
        and year.period_type = 'year' and year.period_start = date_trunc('year', cumulative.month)::date
)

select * from final
