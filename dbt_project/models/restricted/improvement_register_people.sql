{# The improvement register's owners and verifiers by name, with the pseudonyms marts carry:
   for the export and the reports only. #}
select
    item_id,
    owner,
    {{ pseudonym('owner') }} as assigned_owner_key,
    verified_by,
    {{ pseudonym('verified_by') }} as verified_by_key
from {{ ref('int_improvement_register_latest') }}
where owner is not null or verified_by is not null
