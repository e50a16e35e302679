{# A policy's own rows in a settings seed replace the '*' rows meant for every policy. #}
{% macro rows_for_policy(seed, policies, columns) -%}
    select policies.policy_id, settings.{{ columns | join(', settings.') }}
    from (select distinct policy_id from {{ policies }}) as policies
    inner join {{ ref(seed) }} as settings
        on settings.policy_id = policies.policy_id
        or (
            settings.policy_id = '*'
            and not exists (select 1 from {{ ref(seed) }} as own where own.policy_id = policies.policy_id)
        )
{%- endmacro %}
