{# The improvement register's free text about people and items, kept out of marts: owners and
   verifiers by name, with the pseudonyms marts carry, and what an item raised by hand is about;
   for the export and the reports only. #}
select
    item_id,
    owner,
    {{ pseudonym('owner') }} as assigned_owner_key,
    verified_by,
    description,
    {{ pseudonym('verified_by') }} as verified_by_key
from {{ ref('int_improvement_register_latest') }}
where owner is not null or verified_by is not null or description is not null
