{#
  One row per acceptance application [002 §5.4.4]: internal (to the quality department),
  customer initial or customer final; result passed, failed, or null while pending.
  attempt numbers a project's applications of one kind in the order applied.
#}
with acceptances as (
    select * from {{ ref('int_acceptances_deduplicated') }}
),

final as (
    select
        acceptances.project_id,
        projects.dept_id,
        acceptances.kind,
        row_number() over (partition by acceptances.project_id, acceptances.kind order by acceptances.applied_date)
            as attempt,
        acceptances.applied_date,
        acceptances.decided_date,
        acceptances.result
    from acceptances
    left join {{ ref('dim_projects') }} as projects on acceptances.project_id = projects.project_id
)

select * from final
