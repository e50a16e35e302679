"""Property test: SQL business minutes equal a minute-by-minute count in Python.

Business-hours SLA durations are computed in SQL as a difference of two running totals
(int_sla_calendar_days and macros/business_minutes.sql), which is fast but easy to get
subtly wrong at lunch breaks, statutory holidays, adjusted working days (调休), the
weekday fallback of unpublished years (2027 onwards) and time zones. Here hypothesis draws
random business calendars, time zones and intervals, runs the real compiled SQL, and
compares it with a deliberately naive reference that walks the interval one UTC minute at
a time and asks whether that minute is inside a working window of a worked local day.

The reference decides worked days on its own, from the chinesecalendar package rather
than the seed generated from it: a statutory holiday is not worked; an adjusted working
day is, with the day's own hours if the calendar has a row for its weekday and otherwise
those of the calendar's first weekday; company overrides (seed calendar_overrides.csv)
work the same way; every other day is worked when its ISO weekday has a row. Years the
package does not publish have no holidays, so the weekday rows alone decide.

The reference counts real elapsed time, so on a daylight-saving switch inside a working
window it counts the hour that is skipped as 0 minutes and the hour that repeats twice.
It also checks the due-time macro: for an instant t inside a working window,
instant_at_cumulative(cumulative_minutes(t)) is t again. The explicit examples marked
"found by this test" are failures it found, kept so they are replayed on every run.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import psycopg
import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from itss_warehouse.orchestration import environment
from itss_warehouse.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CALENDAR_ID = "property_calendar"
ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"]
MAX_DURATION = timedelta(days=20)
TOLERANCE = Fraction(1, 10**6)

# The caller's side of the macros, as in fct_ticket_sla: the day row of t's local date,
# and for a due time the first working day whose running total reaches the target.
CUMULATIVE_QUERY = """
select {{ cumulative_minutes('instants.instant_at', 'instants.calendar_id', 'day') }}
from unnest(%(instants)s::timestamptz[]) with ordinality as instants_array(instant_at, position)
cross join lateral (
    select instants_array.instant_at, %(calendar_id)s::text as calendar_id, %(timezone)s::text as timezone
) as instants
left join {{ calendar_day_of('day', 'instants', 'instants.instant_at') }}
order by instants_array.position
"""

INSTANT_QUERY = """
select {{ instant_at_cumulative('due.due_total', 'due.calendar_id', 'due_day') }}
from (select %(total)s::numeric as due_total, %(calendar_id)s::text as calendar_id, %(timezone)s::text as timezone) as due
left join {{ working_day_reaching('due_day', 'due', 'due.due_total') }} on true
"""


# --- the calendar under test and the reference ------------------------------------------


@dataclass(frozen=True)
class Hours:
    """One weekday's hours in minutes after local midnight (end may be 1440, i.e. 24:00)."""

    start: int
    end: int
    lunch: tuple[int, int] | None = None

    def windows(self) -> list[tuple[int, int]]:
        if self.lunch is None:
            return [(self.start, self.end)]
        return [(self.start, self.lunch[0]), (self.lunch[1], self.end)]


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _seed_rows(calendar: dict[int, Hours]) -> list[tuple[str, int, str, str, str, str]]:
    """Rows of seeds/sla_calendars.csv for the calendar (text times, empty lunch = none)."""
    return [
        (
            CALENDAR_ID,
            weekday,
            _clock(hours.start),
            _clock(hours.end),
            _clock(hours.lunch[0]) if hours.lunch else "",
            _clock(hours.lunch[1]) if hours.lunch else "",
        )
        for weekday, hours in sorted(calendar.items())
    ]


def _company_overrides() -> dict[date, bool]:
    path = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "calendar_overrides.csv"
    with path.open(encoding="utf-8") as handle:
        return {
            date.fromisoformat(row["calendar_date"]): row["is_workday"].lower() == "true"
            for row in csv.DictReader(handle)
        }


COMPANY_OVERRIDES = _company_overrides()


def reference_windows(calendar: dict[int, Hours], day: date) -> list[tuple[int, int]]:
    """The day's working windows by the rules above, decided without the warehouse."""
    own_hours = calendar.get(day.isoweekday())
    first_weekday_hours = calendar[min(calendar)]
    if day in COMPANY_OVERRIDES:
        worked = COMPANY_OVERRIDES[day]
    elif day in chinese_calendar.holidays:
        worked = False
    elif day in chinese_calendar.workdays:
        worked = True
    else:
        worked = own_hours is not None
    return (own_hours or first_weekday_hours).windows() if worked else []


def reference_working_minutes(
    calendar: dict[int, Hours], zone: ZoneInfo, start: datetime, end: datetime
) -> list[datetime]:
    """The UTC minutes [m, m + 1) overlapping [start, end) whose local time is in a working window of its day."""
    working_clock_by_day: dict[date, set[int]] = {}  # minutes after local midnight that are worked
    working = []
    minute = start.replace(second=0)
    while minute < end:
        local = minute.astimezone(zone)
        if local.date() not in working_clock_by_day:
            windows = reference_windows(calendar, local.date())
            working_clock_by_day[local.date()] = {clock for first, last in windows for clock in range(first, last)}
        if local.hour * 60 + local.minute in working_clock_by_day[local.date()]:
            working.append(minute)
        minute += timedelta(minutes=1)
    return working


def reference_business_minutes(working: list[datetime], start: datetime, end: datetime) -> Fraction:
    """Working minutes in [start, end): real elapsed time, the first and last minute possibly in part."""
    total = Fraction(0)
    for minute in working:
        overlap = min(end, minute + timedelta(minutes=1)) - max(start, minute)
        total += Fraction(int(overlap.total_seconds()), 60)
    return total


# --- strategies ------------------------------------------------------------------------


# A boundary inside the hour that repeats when daylight saving time ends (01:00-02:00 in
# New York, 02:00-03:00 in Berlin) names two instants; the SQL reads it once (DECISIONS.md), so the
# reference's two readings are not compared there.
BOUNDARY_MINUTES = st.integers(0, 1440).filter(lambda minute: not 60 < minute < 180)


@st.composite
def weekday_hours(draw) -> Hours:
    with_lunch = draw(st.booleans())
    times = sorted(draw(st.sets(BOUNDARY_MINUTES, min_size=4 if with_lunch else 2, max_size=4 if with_lunch else 2)))
    if with_lunch:
        return Hours(times[0], times[3], (times[1], times[2]))
    return Hours(times[0], times[1])


@st.composite
def calendars(draw) -> dict[int, Hours]:
    weekdays = draw(st.sets(st.integers(1, 7), min_size=1))
    if draw(st.booleans()):  # the usual case: the same hours every worked weekday
        hours = draw(weekday_hours())
        return {weekday: hours for weekday in weekdays}
    return {weekday: draw(weekday_hours()) for weekday in weekdays}


def _notable_days() -> list[date]:
    """Days where the rules change: statutory days, daylight-saving switches, New Year into 2027."""
    days = {day for day in [*chinese_calendar.holidays, *chinese_calendar.workdays] if day.year >= 2025}
    days.add(date(2027, 1, 1))
    noon = datetime(2025, 1, 1, 12, tzinfo=UTC)
    while noon.year < 2028:
        for zone in map(ZoneInfo, ZONES):
            if noon.astimezone(zone).utcoffset() != (noon + timedelta(days=1)).astimezone(zone).utcoffset():
                days.add((noon + timedelta(days=1)).date())
        noon += timedelta(days=1)
    return sorted(days)


_seconds = st.integers(0, 86399).map(lambda seconds: timedelta(seconds=seconds))
# Half the intervals start anywhere in 2025-2027, half in the ten days before a notable day.
instants = st.one_of(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)).map(
        lambda moment: moment.replace(microsecond=0, tzinfo=UTC)
    ),
    st.builds(
        lambda day, days_before, seconds: (
            datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=days_before) + seconds
        ),
        st.sampled_from(_notable_days()),
        st.integers(0, 10),
        _seconds,
    ),
)
durations = st.builds(
    lambda days, seconds: timedelta(days=days) + seconds, st.integers(0, MAX_DURATION.days - 1), _seconds
)

OFFICE = {weekday: Hours(8 * 60 + 30, 17 * 60 + 30, (12 * 60, 13 * 60)) for weekday in range(1, 6)}


# --- the SQL under test ----------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class CompiledSql:
    """The SQL under test, compiled by dbt for the test database (repr kept short for hypothesis' reports)."""

    url: str
    calendar_days_sql: str
    calendar_days_relation: str
    policies_relation: str
    sla_calendars_relation: str
    cumulative_query: str
    instant_query: str

    def __repr__(self) -> str:
        return f"CompiledSql({self.url!r})"

    def _repr_pretty_(self, printer, cycle) -> None:  # hypothesis' reports
        printer.text(repr(self))


# dim_calendar only around the years drawn (running totals start 2024-12-01); every invocation, for partial parsing.
CALENDAR_RANGE = "{calendar_start: '2024-12-01', calendar_end: '2028-01-31'}"


def _invoke(project: Path, *args: str):
    """dbt in-process, silent on stdout (compile would print its SQL); details go to the log file."""
    from dbt.cli.main import dbtRunner

    project_options = ["--vars", CALENDAR_RANGE, "--project-dir", str(project), "--profiles-dir", str(project)]
    command = ["--log-level", "none", "--log-level-file", "debug", *args, *project_options]
    result = dbtRunner().invoke(command)
    assert result.success, f"dbt {' '.join(args)} failed: {result.exception or 'see ' + os.environ['DBT_LOG_PATH']}"
    return result


@pytest.fixture(scope="module")
def compiled(tmp_path_factory, create_warehouse) -> Iterator[CompiledSql]:
    """Seeds and dim_calendar built once in a private database; the SQL under test compiled from the project."""
    url = create_warehouse("business_minutes")
    home = tmp_path_factory.mktemp("business_minutes_home")
    settings = Settings(_env_file=None, home=home)
    project = settings.dbt_project_path
    saved = dict(os.environ)
    environment.export(settings, url)
    # Private target and log folders: never write to dbt_project/target next to other dbt runs.
    os.environ["DBT_TARGET_PATH"] = str(home / "dbt_target")
    os.environ["DBT_LOG_PATH"] = str(home / "dbt_logs")
    try:
        seeds_and_calendar = ["sla_calendars", "ola_targets", "cn_statutory_days", "calendar_overrides", "dim_calendar"]
        no_tests = ["--exclude-resource-type", "test", "unit_test"]
        _invoke(project, "build", "--select", *seeds_and_calendar, *no_tests)
        _invoke(project, "compile", "--select", "int_sla_calendar_days")
        nodes = json.loads((home / "dbt_target" / "manifest.json").read_text(encoding="utf-8"))["nodes"]
        queries = [
            _invoke(project, "compile", "--inline", query).result.results[0].node.compiled_code
            for query in (CUMULATIVE_QUERY, INSTANT_QUERY)
        ]
    finally:
        os.environ.clear()
        os.environ.update(saved)
    policies = nodes["model.itss_warehouse.int_sla_policies_deduplicated"]["relation_name"]
    with psycopg.connect(url, autocommit=True) as conn:
        # The policies the calendar days are built for: a table filled per example instead of the staging view.
        conn.execute(f"create table {policies} (calendar text, timezone text)")
    calendar_days = nodes["model.itss_warehouse.int_sla_calendar_days"]
    yield CompiledSql(
        url=url,
        calendar_days_sql=calendar_days["compiled_code"],
        calendar_days_relation=calendar_days["relation_name"],
        policies_relation=policies,
        sla_calendars_relation=nodes["seed.itss_warehouse.sla_calendars"]["relation_name"],
        cumulative_query=queries[0],
        instant_query=queries[1],
    )


@pytest.fixture(scope="module")
def connection(compiled: CompiledSql) -> Iterator[psycopg.Connection]:
    with psycopg.connect(compiled.url) as conn:
        yield conn


# --- the property ----------------------------------------------------------------------


@settings(max_examples=100, deadline=None, database=None)
@given(
    calendar=calendars(),
    zone=st.sampled_from(ZONES),
    start=instants,
    duration=durations,
    pick=st.integers(0, 10**6),
    second=st.integers(1, 59),
)
# New Year into 2027, the first year without a published statutory calendar.
@example(
    calendar=OFFICE,
    zone="Asia/Shanghai",
    start=datetime(2026, 12, 31, 0, 0, tzinfo=UTC),
    duration=timedelta(days=4, hours=4),
    pick=0,
    second=30,
)
# The 2025 National Day week: adjusted working days on Sunday 09-28 and Saturday 10-11.
@example(
    calendar=OFFICE,
    zone="Asia/Shanghai",
    start=datetime(2025, 9, 26, 0, 0, tzinfo=UTC),
    duration=timedelta(days=16, hours=3, minutes=7, seconds=11),
    pick=1234,
    second=1,
)
# Found by this test: a window ending at 02:01 on the night Berlin skips 02:00-03:00 ends at the skip (SQL 181, not 180).
@example(
    calendar={day: Hours(0, 121) for day in range(1, 8)},
    zone="Europe/Berlin",
    start=datetime(2026, 3, 29, tzinfo=UTC),
    duration=timedelta(days=1),
    pick=0,
    second=1,
)
# Found by this test: a weekday without a lunch break gets the first weekday's (Tue 2025-03-04: SQL 480, not 540).
@example(
    calendar={1: Hours(540, 1080, (720, 780)), 2: Hours(540, 1080)},
    zone="UTC",
    start=datetime(2025, 3, 4, tzinfo=UTC),
    duration=timedelta(days=1),
    pick=0,
    second=30,
)
# Found by this test: daylight saving. New York falls back on Sunday 2026-11-01 (01:00-02:00 happens twice), so
# 00:00-06:00 lasts 420 real minutes (SQL 360), and 01:30:30 EDT, the first time round, maps back to 01:30:30 EST.
@example(
    calendar={7: Hours(0, 360)},
    zone="America/New_York",
    start=datetime(2026, 11, 1, 4, tzinfo=UTC),
    duration=timedelta(hours=7),
    pick=90,
    second=30,
)
# Berlin springs forward on Sunday 2026-03-29 (02:00-03:00 never happens): 00:00-06:00 lasts 300 minutes (SQL 360).
@example(
    calendar={7: Hours(0, 360)},
    zone="Europe/Berlin",
    start=datetime(2026, 3, 28, 23, tzinfo=UTC),
    duration=timedelta(hours=5),
    pick=0,
    second=30,
)
def test_business_minutes_match_minute_by_minute_reference(
    compiled: CompiledSql,
    connection: psycopg.Connection,
    calendar: dict[int, Hours],
    zone: str,
    start: datetime,
    duration: timedelta,
    pick: int,
    second: int,
):
    end = start + duration
    working = reference_working_minutes(calendar, ZoneInfo(zone), start, end)
    expected = reference_business_minutes(working, start, end)
    # An instant strictly inside a working window (whole-minute window bounds, 1-59 seconds in).
    inside = working[pick % len(working)] + timedelta(seconds=second) if working else None
    note(f"calendar rows: {_seed_rows(calendar)}; zone {zone}; interval [{start}, {end}); instant {inside}")

    parameters = {"calendar_id": CALENDAR_ID, "timezone": zone}
    with connection.transaction(force_rollback=True):
        connection.execute(f"delete from {compiled.sla_calendars_relation}")
        with connection.cursor() as cursor:
            cursor.executemany(
                f"insert into {compiled.sla_calendars_relation} values (%s, %s, %s, %s, %s, %s)", _seed_rows(calendar)
            )
        connection.execute(f"insert into {compiled.policies_relation} values (%s, %s)", (CALENDAR_ID, zone))
        connection.execute(f"create table {compiled.calendar_days_relation} as {compiled.calendar_days_sql}")

        moments = [start, end] + ([inside] if inside else [])
        totals = [
            total for (total,) in connection.execute(compiled.cumulative_query, {"instants": moments, **parameters})
        ]
        actual = Fraction(totals[1] - totals[0])
        note(f"SQL {float(actual)} minutes, reference {float(expected)} minutes")
        assert abs(actual - expected) <= TOLERANCE

        if inside:
            (round_trip,) = connection.execute(compiled.instant_query, {"total": totals[2], **parameters}).fetchone()
            assert round_trip == inside, f"instant_at_cumulative(cumulative_minutes({inside})) = {round_trip}"
