"""The committed statutory-calendar seed matches the installed chinesecalendar package."""

from __future__ import annotations

import csv

from itss_warehouse.settings import Settings
from itss_warehouse.transform.statutory_calendar import COLUMNS, SEED_NAME, statutory_days, write_seed

SEED = Settings(_env_file=None).dbt_project_path / "seeds" / SEED_NAME


def test_committed_seed_is_up_to_date():
    with SEED.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == COLUMNS
    assert [tuple(row) for row in rows[1:]] == statutory_days(), "run `itss calendar seed` and commit the seed"


def test_seed_knows_national_day_2026_and_its_adjusted_workdays(tmp_path):
    days = {row[0]: row[1:] for row in statutory_days()}
    assert days["2026-10-01"] == ("holiday", "National Day", "国庆节")
    assert days["2026-10-10"] == ("adjusted_workday", "National Day", "国庆节")  # a Saturday worked
    assert not any(day.startswith("2027") for day in days)  # not published: dim_calendar falls back
    assert write_seed(tmp_path / SEED_NAME).read_text(encoding="utf-8") == SEED.read_text(encoding="utf-8")
