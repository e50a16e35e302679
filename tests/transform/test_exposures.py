"""dbt exposures name every report and every mart (or restricted model) its module reads."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from itss_warehouse.reports.kinds import KINDS

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "src" / "itss_warehouse" / "reports"


def _exposures() -> dict[str, set[str]]:
    document = yaml.safe_load((REPO / "dbt_project" / "models" / "marts" / "exposures.yml").read_text())
    return {
        exposure["name"]: {re.fullmatch(r"ref\('(\w+)'\)", ref).group(1) for ref in exposure["depends_on"]}
        for exposure in document["exposures"]
    }


def _tables(*modules: str) -> set[str]:
    return {
        table
        for module in modules
        for table in re.findall(r"(?:marts|restricted)\.(\w+)", (REPORTS / module).read_text())
    }


def test_every_report_has_an_exposure_listing_the_marts_it_reads():
    exposures = _exposures()
    assert set(exposures) == set(KINDS)
    models = REPO / "dbt_project" / "models"
    marts = {path.stem for folder in ("marts", "restricted") for path in (models / folder).rglob("*.sql")}
    marts |= {
        "kpi_catalogue",
        "improvement_cause_categories",
        "sla_exemption_reason_categories",
    }  # the seeds reports read
    for kind, depends_on in exposures.items():
        shared = ("rendering.py", "data_quality.py")
        assert _tables(f"{kind}.py", *shared) <= depends_on, kind  # what the report itself queries
        assert depends_on <= _tables(f"{kind}.py", *shared, "sections.py", "annual_report.py"), kind
        assert depends_on <= marts, kind
