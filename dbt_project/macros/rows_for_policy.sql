{# A policy's own rows in a settings seed replace the '*' rows meant for every policy. A row is
   in force from valid_from through valid_to (empty: open-ended): the reader joins it on the
   ticket's opening day (DECISIONS.md, "Dated policies and calendars"). #}
{% macro rows_for_policy(seed, policies, columns) -%}
    select
        policies.policy_id,
        settings.{{ columns | join(', settings.') }},
        coalesce(settings.valid_from, '-infinity') as valid_from,
        coalesce(settings.valid_to, 'infinity') as valid_to
    from (select distinct policy_id from {{ policies }}) as policies
    inner join {{ ref(seed) }} as settings
        on settings.policy_id = policies.policy_id
        or (
            settings.policy_id = '*'
            and not exists (select 1 from {{ ref(seed) }} as own where own.policy_id = policies.policy_id)
        )
{%- endmacro %}

{# The ticket opened on a day the settings row is in force, in the warehouse's time zone: the
   settings decide the priority that picks the policy version, so no version's zone is known yet. #}
{% macro opened_on(opened_at, settings) -%}
    ({{ opened_at }} at time zone '{{ var("timezone") }}')::date between {{ settings }}.valid_from and {{ settings }}.valid_to
{%- endmacro %}
