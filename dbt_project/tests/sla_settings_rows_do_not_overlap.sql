{# Two rows of one policy's setting in force on the same day: two priority bases would be a
   guess, and a pause status listed twice would count its minutes twice. The build fails
   and names them (seeds/sla_policy_settings.csv, seeds/sla_pause_statuses.csv). #}
{% set seeds = [['sla_policy_settings', none], ['sla_pause_statuses', 'status']] %}
{% for seed, same_column in seeds %}
{% if not loop.first %}union all{% endif %}
select
    '{{ seed }}' as seed,
    earlier.policy_id,
    earlier.valid_from,
    earlier.valid_to,
    later.valid_from as overlapping_valid_from
from {{ ref(seed) }} as earlier
inner join {{ ref(seed) }} as later
    on earlier.policy_id = later.policy_id
    {% if same_column %}and earlier.{{ same_column }} = later.{{ same_column }}{% endif %}
    and earlier.ctid <> later.ctid
    and coalesce(earlier.valid_from, '-infinity') <= coalesce(later.valid_from, '-infinity')
    and coalesce(later.valid_from, '-infinity') <= coalesce(earlier.valid_to, 'infinity')
{% endfor %}
