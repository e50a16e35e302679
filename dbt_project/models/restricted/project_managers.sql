{# Each project's manager by name, with the pseudonym the marts carry: for the reports only. #}
select
    project_id,
    manager as project_manager,
    {{ pseudonym('manager') }} as project_manager_key
from {{ ref('int_projects_deduplicated') }}
where manager is not null
