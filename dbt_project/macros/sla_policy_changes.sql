{# The tickets a policy version changed since `watermark` (a query for a batch id) judges:
   those of the policy's projects opened on or after the version's valid_from (an undated
   version: all of them). A version dated in the future of every ticket touches none;
   one that landed late re-judges the tickets opened since its date, done or not. #}
{% macro tickets_under_changed_policies(watermark) -%}
    select tickets.ticket_id
    from {{ ref('int_sla_policies_deduplicated') }} as versions
    inner join {{ ref('int_projects_deduplicated') }} as projects on versions.policy_id = projects.sla_policy_id
    inner join {{ ref('int_tickets_latest') }} as tickets on projects.project_id = tickets.project_id
    where versions.changed_in_batch > ({{ watermark }})
        and (tickets.opened_at at time zone versions.timezone)::date >= coalesce(versions.valid_from, '-infinity')
{%- endmacro %}
