import datetime as dt

import pytest

from itss_warehouse.pipeline import last_closed_month


@pytest.mark.parametrize(
    ("day", "month"),
    [
        (dt.date(2026, 11, 21), dt.date(2026, 10, 1)),
        (dt.date(2026, 11, 1), dt.date(2026, 10, 1)),
        (dt.date(2026, 10, 31), dt.date(2026, 10, 1)),  # the run for the last day closes its month
        (dt.date(2027, 1, 1), dt.date(2026, 12, 1)),
        (dt.date(2026, 12, 31), dt.date(2026, 12, 1)),
    ],
)
def test_last_closed_month(day, month):
    assert last_closed_month(day) == month
