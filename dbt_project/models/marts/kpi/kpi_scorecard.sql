{#
  One row per KPI, grain (organisation | department | project), grain id, period type
  (month | quarter | half_year | year) and period start, for the periods and grains the
  catalogue lists for the KPI. Column names are a contract with BI users: keep them
  stable, add new ones at the end.
  Every KPI but the improvement loop's comes judged from int_kpi_scorecard_except_loop;
  the loop's (int_kpi_improvement_loop, from marts.improvement_items, which reads the
  others) is judged here by the same macro, judged_kpis.
#}
with improvement_loop as (
    select * from {{ ref('int_kpi_improvement_loop') }}
),

final as (
    select * from {{ ref('int_kpi_scorecard_except_loop') }}
    union all
    select * from (
        {{ judged_kpis('improvement_loop') }}
    ) as improvement_loop_judged
)

select * from final
