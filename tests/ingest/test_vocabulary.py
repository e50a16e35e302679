"""The canonical codes are written once (ingest.canonical): dbt's checks must agree with them."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import yaml

from itss_warehouse.ingest import canonical
from itss_warehouse.ingest.sources import Source

MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
# Columns of the warehouse's models that hold canonical codes, by column (or model.column).
VOCABULARY = {
    "ticket_type": canonical.TICKET_TYPES,
    "priority": canonical.PRIORITIES,
    "closed_without_resolution": canonical.CLOSED_WITHOUT_RESOLUTION,
    "fct_acceptances.kind": canonical.ACCEPTANCE_KINDS,
    "fct_satisfaction_answers.level": canonical.SURVEY_LEVELS,
    "improvement_items.kind": canonical.GENERATED_IMPROVEMENT_ORIGINS + canonical.HAND_RAISED_IMPROVEMENT_ORIGINS,
    "improvement_items.status": canonical.IMPROVEMENT_STATUSES,
    "stg_quality__improvement_register.status": canonical.IMPROVEMENT_STATUSES,
    "stg_sla__exemptions.metric": canonical.SLA_EXEMPTION_METRICS,
}


def _checked_codes() -> dict[str, set[str]]:
    """Codes per model.column from the check constraints and accepted_values tests of every model YAML."""
    found: dict[str, set[str]] = {}
    for path in MODELS.rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            for constraint in model.get("constraints", []):
                check = re.fullmatch(r"(\w+) in \((.*)\)", constraint.get("expression", ""))
                if constraint.get("type") == "check" and check:
                    codes = {code.strip().strip("'") for code in check.group(2).split(",")}
                    found[f"{model['name']}.{check.group(1)}"] = codes
            for column in model.get("columns", []):
                for test in column.get("data_tests", column.get("tests", [])):
                    if isinstance(test, dict) and "accepted_values" in test:
                        values = test["accepted_values"].get("arguments", test["accepted_values"])["values"]
                        found[f"{model['name']}.{column['name']}"] = {str(value) for value in values}
    return found


def test_dbt_checks_of_canonical_codes_agree_with_the_vocabulary():
    found = _checked_codes()
    governed = {column: codes for column, codes in found.items()
                if column in VOCABULARY or column.split(".")[1] in VOCABULARY}  # fmt: skip
    assert len(governed) >= 5, governed  # the tickets' three constraints, acceptances, survey levels
    disagreeing = {
        column: sorted(codes ^ set(VOCABULARY.get(column, VOCABULARY.get(column.split(".")[1]))))
        for column, codes in governed.items()
        if codes != set(VOCABULARY.get(column, VOCABULARY.get(column.split(".")[1])))
    }
    assert disagreeing == {}, "dbt checks and ingest.canonical differ (codes in one only)"


def test_the_source_setting_offers_the_canonical_rules():
    assert typing.get_args(Source.model_fields["closed_without_resolution"].annotation) == (
        canonical.CLOSED_WITHOUT_RESOLUTION
    )
