{#
  `column` is one of the values `query` returns, with the values gathered once into an
  array so the planner looks each one up through the column's index. The planner cannot
  estimate "rows of batches newer than this table's newest" (the bound is only known
  at run time), guesses a third of history, and with `in (subquery)` would then read
  every row of history to hash-join a night's few thousand tickets.
#}
{% macro among(column, query) -%}
    {{ column }} = any(array({{ query }}))
{%- endmacro %}
