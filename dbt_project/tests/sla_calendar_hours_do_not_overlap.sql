{# Two rows of one calendar's weekday in force on the same day: which hours count would
   be a guess, so the build fails and names them (seeds/sla_calendars.csv; rows with the
   same valid_from fail its unique test). #}
select
    earlier.calendar_id,
    earlier.weekday,
    earlier.valid_from,
    earlier.valid_to,
    later.valid_from as overlapping_valid_from
from {{ ref('sla_calendars') }} as earlier
inner join {{ ref('sla_calendars') }} as later
    on earlier.calendar_id = later.calendar_id
    and earlier.weekday = later.weekday
    and coalesce(earlier.valid_from, '-infinity') < coalesce(later.valid_from, '-infinity')
    and later.valid_from <= coalesce(earlier.valid_to, 'infinity')
