{# The customer's own words (free text that may name people): for the reports only. #}
select answer_source, response_id, item, comment
from {{ ref('int_satisfaction_answers') }}
where comment is not null
