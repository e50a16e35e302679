with projects as (
    select * from {{ ref('int_projects_deduplicated') }}
),

customers as (
    select * from {{ ref('int_customers_deduplicated') }}
),

departments as (
    select * from {{ ref('int_departments_deduplicated') }}
),

final as (
    select
        projects.project_id,
        projects.project_name,
        projects.customer_id,
        customers.customer_name,
        projects.dept_id,
        departments.department_name,
        projects.kind,
        projects.service_mode,
        projects.sla_policy_id,
        projects.report_frequency,
        projects.start_date,
        projects.end_date,
        projects.plan_reviewed_date,
        -- A pseudonym, not the name: this mart is for BI (restricted.project_managers has the name).
        {{ pseudonym('projects.manager') }} as project_manager_key
    from projects
    left join customers on projects.customer_id = customers.customer_id
    left join departments on projects.dept_id = departments.dept_id
)

select * from final
