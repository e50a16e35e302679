{#
  No two rows share the same values of `columns` (a multi-column grain). Grouping by
  the columns themselves lets PostgreSQL use an index that starts with them, where a
  unique test on a concatenated string hashes a new string per row.
#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n_records
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
