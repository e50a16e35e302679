"""The reasons a record was quarantined, and the validation warnings, in the report's language.

Validation (``validate/suites.py``: the checks' descriptions) and mapping
(``ingest/mapping.py``: the problems it flags; the registers' rules in
``ingest/improvement_register.py`` and ``ingest/sla_exemptions.py``) write their reasons in English, with the
column and values they concern. Each known form is matched here and rewritten by the
catalogue's ``layout.reasons`` entry of the same key, keeping its column names and
values; a reason of unknown form is shown as written rather than dropped. A validation
warning (``validate/runner.py``'s failure message: file, column, rows and the check's
description) is rewritten by ``layout.warnings`` the same way, its description as a reason.
"""

from __future__ import annotations

import re

# key in layout.reasons → the English form the code writes (a full match; names the values kept).
REASONS: dict[str, re.Pattern[str]] = {
    key: re.compile(pattern)
    for key, pattern in {
        "present": r"(?P<column>\w+) is present",
        "timestamp": r"(?P<column>\w+) is a timestamp",
        "date": r"(?P<column>\w+) is a date",
        "whole_minutes": r"(?P<column>\w+) is a whole number of minutes",
        "whole_number": r"(?P<column>\w+) is a whole number",
        "year": r"(?P<column>\w+) is a year",
        "one_of": r"(?P<column>\w+) is one of (?P<values>.+)",
        "not_before": r"(?P<later>\w+) is not before (?P<earlier>\w+)",
        "score_in_scale": r"score is within its scale: (?P<scales>.+)",
        "period_format": r"period is YYYY-MM",
        "not_in_value_map": r"value not in the mapping's value map",
        "not_a_number": r"not a number",
        "not_a_timestamp": r"not a timestamp",
        "not_a_date": r"not a date",
        "no_match": r"does not match (?P<pattern>.+)",
        "field_count": r"expected (?P<expected>\d+) fields, found (?P<found>\d+)",
        # The improvement register's rules (ingest/improvement_register.py).
        "unknown_item": r"unknown item id: .+",
        "raised_date_needed": r"an item raised by hand needs the day it was raised",
        "status_backwards": r"status goes backwards: the item is already (?P<status>\w+)",
        "verified_without_completion": r"verified before done: no completed date",
        "verified_before_completion": (
            r"verified before done: verified date is before the completed date (?P<completed>\S+)"
        ),
        "owner_missing": r"missing owner on an open item",
        # The SLA exemption register's rules (ingest/sla_exemptions.py).
        "unknown_ticket": r"unknown ticket: no ticket with this id has been loaded",
        "no_metric_breached": r"did not breach: no metric of the ticket is breached",
        "metric_not_breached": r"did not breach: the (?P<metric>\w+) metric is (?P<status>.+)",
    }.items()
}
# key in layout.warnings → the form of validate/runner.py's failure messages.
WARNINGS: dict[str, re.Pattern[str]] = {
    "rows_fail": re.compile(
        r"(?P<file>.+?), column (?P<column>\w+): (?P<count>\d+) row\(s\) fail '(?P<reason>.+)' \(rows (?P<rows>.+)\)"
    ),
    "check_failed": re.compile(r"(?P<file>.+?): check failed: '(?P<reason>.+)'"),
}
# Mapping joins the reasons of one value with this (ingest/landing.py).
SEPARATOR = "; "


def translate(reason: str, formats: dict[str, str]) -> str:
    """``reason`` by the catalogue's ``formats`` (``layout.reasons``), part by part; unknown parts as written."""
    return SEPARATOR.join(_translate_one(part, formats) for part in reason.split(SEPARATOR))


def translate_warning(warning: str, formats: dict[str, str], reasons: dict[str, str]) -> str:
    """A validation warning by ``formats`` (``layout.warnings``), its check's description by ``reasons``."""
    for key, pattern in WARNINGS.items():
        if match := pattern.fullmatch(warning):
            return formats[key].format(**{**match.groupdict(), "reason": translate(match["reason"], reasons)})
    return warning


def _translate_one(reason: str, formats: dict[str, str]) -> str:
    for key, pattern in REASONS.items():
        if match := pattern.fullmatch(reason):
            return formats[key].format(**match.groupdict())
    return reason
