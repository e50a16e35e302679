{# The incremental models that recompute what changed since their last run stamp each row
   they write with the newest batch of their inputs at that run (measured_through_batch);
   the largest stamp is where the next run starts. Batch ids are one sequence over all
   sources, so one number covers every input. #}
{# `inputs`: [relation, its batch column] of each input. #}
{% macro inputs_through(inputs) -%}
    select greatest(
        {%- for relation, column in inputs %}
        (select max({{ column }}) from {{ relation }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as batch_id
{%- endmacro %}

{% macro previous_inputs_through() -%}
    select coalesce(max(measured_through_batch), 0) as batch_id from {{ this }}
{%- endmacro %}
