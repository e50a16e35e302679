{# The years and quarters the organisation-level KPIs are reported for: those with any
   ticket, complaint, quality-register or survey activity, so a year without, say, an
   audit shows 0 rather than nothing. #}
with active_months as (
    select distinct month from {{ ref('int_kpi_project_months') }}
    union
    select distinct date_trunc('month', held_on)::date from {{ ref('int_quality_records_deduplicated') }}
    union
    select distinct date_trunc('month', responded_date)::date from {{ ref('int_satisfaction_answers') }}
)

select distinct
    'year' as period_type,
    date_trunc('year', month)::date as period_start
from active_months
where month is not null
union all
select distinct
    'quarter',
    date_trunc('quarter', month)::date
from active_months
where month is not null
