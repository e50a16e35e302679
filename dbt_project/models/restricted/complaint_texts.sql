{# The complaint as written in the register (free text that may name people): for the reports only. #}
select
    complaint_id,
    description
from {{ ref('int_complaints_deduplicated') }}
where description is not null
