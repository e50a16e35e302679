{# grain and grain_id of a row of `group by grouping sets` over project_id and dept_id:
   the project, the department, or (neither grouped) the organisation. #}
{% macro grouping_grain() -%}
    case
        when grouping(project_id) = 0 then 'project'
        when grouping(dept_id) = 0 then 'department'
        else 'organisation'
    end as grain,
    coalesce(project_id, dept_id, '{{ var("organisation_id") }}') as grain_id
{%- endmacro %}
