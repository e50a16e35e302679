import datetime as dt

import pytest

from itss_warehouse.reports.formatting import Period


@pytest.mark.parametrize(
    ("period_type", "day", "slug"),
    [
        ("month", dt.date(2026, 11, 21), "2026-10"),
        ("month", dt.date(2026, 11, 1), "2026-10"),  # the monthly DAG's run on the 1st
        ("month", dt.date(2026, 10, 31), "2026-10"),  # the run for the last day closes its month
        ("month", dt.date(2027, 1, 1), "2026-12"),
        ("month", dt.date(2026, 12, 31), "2026-12"),
        ("quarter", dt.date(2026, 10, 1), "2026-Q3"),
        ("half_year", dt.date(2026, 7, 1), "2026-H1"),
        ("half_year", dt.date(2027, 1, 1), "2026-H2"),
        ("year", dt.date(2027, 1, 1), "2026"),
        ("year", dt.date(2026, 12, 31), "2026"),
        ("year", dt.date(2026, 12, 30), "2025"),
    ],
)
def test_last_closed_period(period_type, day, slug):
    assert Period.last_closed(period_type, day).slug == slug


@pytest.mark.parametrize("text", ["2026-10", "2026-Q3", "2026-H2", "2026"])
def test_period_names_round_trip(text):
    assert Period.parse(text).slug == text


def test_period_labels_in_both_languages():
    from pathlib import Path

    from itss_warehouse.reports.formatting import load_catalogue

    templates = Path(__file__).resolve().parents[2] / "reports"
    zh, en = load_catalogue(templates, "zh-CN"), load_catalogue(templates, "en")
    expected = {
        "2026-10": ("2026年10月", "October 2026"),
        "2026-Q3": ("2026年第3季度", "Q3 2026"),
        "2026-H1": ("2026年上半年", "First half 2026"),
        "2026": ("2026年度", "Year 2026"),
    }
    assert {text: (Period.parse(text).label(zh), Period.parse(text).label(en)) for text in expected} == expected
