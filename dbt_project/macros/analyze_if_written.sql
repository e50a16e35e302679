{#
  Planner statistics for the models downstream and for analysts' queries, gathered when
  this run wrote to the table: a new table has none, while a night that wrote nothing to
  a table of millions of rows would pay up to half a second to gather the same again.
  pg_stat_xact_user_tables counts the writes of the current transaction, and post-hooks
  run inside the model's; writes of earlier transactions that the session has not yet
  reported can only add to the count, so a write is never missed.
#}
{% macro analyze_if_written() -%}
do $$
begin
    if exists (
        select from pg_stat_xact_user_tables
        where relid = '{{ this }}'::regclass and n_tup_ins + n_tup_upd + n_tup_del > 0
    ) then
        analyze {{ this }};
    end if;
end
$$
{%- endmacro %}
