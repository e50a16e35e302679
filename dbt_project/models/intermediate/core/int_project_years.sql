{# One row per project and calendar year in which it ran, from its start to its end or
   the current year, whichever is earlier: who the active customers of a year are. #}
select
    projects.project_id,
    projects.customer_id,
    projects.dept_id,
    years.year_start::date as year_start
from {{ ref('int_projects_deduplicated') }} as projects
cross join
    lateral generate_series(
        date_trunc('year', projects.start_date),
        date_trunc('year', least(coalesce(projects.end_date, {{ as_of_date() }}), {{ as_of_date() }})),
        interval '1 year'
    ) as years (year_start)
where projects.start_date is not null
