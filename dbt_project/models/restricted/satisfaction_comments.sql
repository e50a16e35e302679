{# The customer's own words (free text that may name people): for the reports only. A view:
   the reports read a few answers through int_satisfaction_answers' unique index, and as a
   table it copied every comment of history each night. #}
{{ config(materialized='view') }}

select
    answer_source,
    response_id,
    item,
    comment
from {{ ref('int_satisfaction_answers') }}
where comment is not null
