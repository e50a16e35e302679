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

{# The incremental counts over fct_tickets recount what changed in it since their last run:
   the tickets with a newer batch or a newer SLA measurement (an open ticket is measured
   again every night). Each row is stamped with the newest of both at its run. #}
{% macro fct_tickets_through() -%}
    select max(last_batch_id) as batch_id, max(sla_measured_at) as sla_measured_at
    from {{ ref('fct_tickets') }}
{%- endmacro %}

{% macro previous_fct_tickets_through() -%}
    select
        coalesce(max(measured_through_batch), 0) as batch_id,
        coalesce(max(sla_measured_through), '-infinity') as sla_measured_at
    from {{ this }}
{%- endmacro %}

{# `watermark`: a relation with one row of previous_fct_tickets_through(). #}
{% macro fct_tickets_changed_since(watermark, columns) -%}
    select {{ columns }} from {{ ref('fct_tickets') }}
    where last_batch_id > (select batch_id from {{ watermark }})
    union
    select {{ columns }} from {{ ref('fct_tickets') }}
    where sla_measured_at > (select sla_measured_at from {{ watermark }})
{%- endmacro %}

{# `inputs`: a relation with one row of fct_tickets_through(). #}
{% macro fct_tickets_stamps(inputs) -%}
    (select batch_id from {{ inputs }}) as measured_through_batch,
    (select sla_measured_at from {{ inputs }}) as sla_measured_through
{%- endmacro %}

{# A pre-hook of the incremental SLA models keyed by ticket: before a run measures the tickets
   with a version newer than the table's inputs again (or under a changed policy version,
   macros/sla_policy_changes.sql), their rows go, so one no longer
   measured (now a problem, say) keeps none; delete+insert replaces only the rows it writes.
   The ids are looked up through the table's ticket index (macros/among.sql): as a hash join
   the delete read the whole table, 0.2 s a night at 100,000 tickets. #}
{% macro delete_tickets_with_new_versions() -%}
    {% if is_incremental() %}delete from {{ this }} where {{ among('ticket_id',
        "select ticket_id from " ~ ref('int_tickets_latest') ~ " where last_batch_id > (" ~ previous_inputs_through() ~ ")"
        ~ " union " ~ tickets_under_changed_policies(previous_inputs_through())
    ) }}{% endif %}
{%- endmacro %}
