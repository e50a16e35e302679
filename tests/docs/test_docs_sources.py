"""docs/sources.md cannot drift: every canonical field, every code the pipeline checks and
every definition-file key is in it, each read from where the code defines or checks it."""

from __future__ import annotations

import csv
import io
import re
import typing
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from itss_warehouse.ingest.canonical import ENTITIES
from itss_warehouse.ingest.sources import Source, SourceSet

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "sources.md").read_text(encoding="utf-8")
DBT = REPO / "dbt_project"
FIELD_COLUMNS = ["field", "type", "required", "allowed values", "meaning", "example"]
KEY_COLUMNS = ["key", "default", "meaning", "example"]

Codes = dict[tuple[str, str], dict[str, set[str]]]  # (entity, field) → {where checked: codes}


@pytest.fixture(scope="module")
def builder():
    from itss_warehouse.validate import suites

    return suites


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _tables(text: str, columns: list[str]) -> dict[str, dict[str, str]]:
    """Rows of the tables with these column headings, by the name in their first cell."""
    rows: dict[str, dict[str, str]] = {}
    heading = None
    for line in text.splitlines():
        if not line.startswith("|"):
            heading = None
            continue
        cells = _cells(line)
        if heading is None:
            heading = cells
        elif heading == columns and not set(cells[0]) <= set("-"):
            name = re.fullmatch(r"`(\w+)`", cells[0])
            assert name, f"docs/sources.md: a table row names no `field`: {line}"
            assert name.group(1) not in rows, f"docs/sources.md: {name.group(1)} has two rows"
            rows[name.group(1)] = dict(zip(columns, cells, strict=True))
    return rows


def _sections() -> dict[str, str]:
    """Each ## or ### heading → the text under it, up to the next such heading."""
    parts = re.split(r"^(#{2,3} .*)$", DOC, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


SECTIONS = {
    entity.group(1): body for heading, body in _sections().items() if (entity := re.fullmatch(r"### `(\w+)`", heading))
}


def _field_rows(entity: str) -> dict[str, dict[str, str]]:
    assert entity in SECTIONS, f"docs/sources.md has no '### `{entity}`' section"
    return _tables(SECTIONS[entity], FIELD_COLUMNS)


def _staging_entity(model: str) -> str:
    """The raw table a staging model reads (its `source('raw', …)`)."""
    (path,) = (DBT / "models" / "staging").rglob(f"{model}.sql")
    (entity,) = set(re.findall(r"source\('raw', '(\w+)'\)", path.read_text()))
    return entity


@pytest.fixture(scope="module")
def codes(builder) -> Codes:
    """Every code the pipeline accepts for a field, by where it is checked."""
    codes: Codes = defaultdict(lambda: defaultdict(set))
    for entity, expectations in builder.RAW_SUITES.items():
        for expectation in expectations:
            if isinstance(expectation, builder.gxe.ExpectColumnValuesToBeInSet):
                codes[entity, expectation.column]["the GX suite"] |= set(expectation.value_set)
    scales = "the GX suite's score_in_scale"
    codes["survey_responses", "scale"][scales] |= {*builder.NUMERIC_SCALES, builder.RATING_SCALE}
    codes["survey_responses", "score"][scales] |= set(builder.RATINGS)
    for properties in sorted((DBT / "models" / "staging").rglob("*.yml")):
        for model in yaml.safe_load(properties.read_text()).get("models", []):
            for constraint in model.get("constraints", []):
                check = re.fullmatch(r"(\w+) in \((.*)\)", constraint.get("expression", ""))
                if constraint["type"] == "check" and check:
                    where = f"{properties.relative_to(DBT)} ({constraint['name']})"
                    codes[_staging_entity(model["name"]), check.group(1)][where] |= set(
                        re.findall(r"'([^']*)'", check.group(2))
                    )
    with (DBT / "seeds" / "sla_calendars.csv").open(encoding="utf-8") as seed:
        codes["sla_policies", "calendar"]["seeds/sla_calendars.csv"] |= {
            row["calendar_id"] for row in csv.DictReader(seed)
        }
    # The one calendar that is no seed row: the relationships test on the policies exempts it.
    intermediate = yaml.safe_load((DBT / "models" / "intermediate" / "sla" / "sla.yml").read_text())
    (policies,) = [model for model in intermediate["models"] if model["name"] == "int_sla_policies_deduplicated"]
    (calendar,) = [column for column in policies["columns"] if column["name"] == "calendar"]
    (relationship,) = [test["relationships"] for test in calendar["data_tests"] if isinstance(test, dict)]
    codes["sla_policies", "calendar"]["intermediate/sla/sla.yml"] |= set(
        re.findall(r"'([^']*)'", relationship["config"]["where"])
    )
    with (DBT / "seeds" / "priority_matrix.csv").open(encoding="utf-8") as seed:
        matrix = list(csv.DictReader(seed))
    for field in ("impact", "urgency"):
        codes["tickets", field]["seeds/priority_matrix.csv"] |= {row[field] for row in matrix}
    return codes


def test_every_entity_has_a_section_with_a_row_per_field():
    assert set(SECTIONS) == set(ENTITIES), (
        f"docs/sources.md: entities without a section: {sorted(set(ENTITIES) - set(SECTIONS))};"
        f" sections of no entity: {sorted(set(SECTIONS) - set(ENTITIES))}"
    )
    for entity, fields in ENTITIES.items():
        rows = _field_rows(entity)
        missing = [field for field in fields if field not in rows]
        assert not missing, f"docs/sources.md, {entity}: no row for field(s) {', '.join(missing)}"
        unknown = sorted(set(rows) - set(fields))
        assert not unknown, f"docs/sources.md, {entity}: rows for field(s) canonical.py does not have: {unknown}"


def test_every_checked_code_is_in_its_field_row(codes):
    # The places are read, not hard-coded: make sure each gave what it holds today.
    assert codes["tickets", "closed_without_resolution"], "the staging YAMLs' check constraints were not read"
    assert {"7x24", "business_hours"} <= set().union(*codes["sla_policies", "calendar"].values())
    for (entity, field), by_place in codes.items():
        row = _field_rows(entity)[field]["allowed values"]
        for where, values in by_place.items():
            missing = sorted(code for code in values if f"`{code}`" not in row)
            assert not missing, f"docs/sources.md, {entity}.{field}: allowed values lack {missing} (checked in {where})"


def test_required_and_types_follow_the_suites(builder):
    types = {builder.TIMESTAMP: "timestamp", builder.DATE: "date", builder.WHOLE_NUMBER: "whole number"}
    for entity, expectations in builder.RAW_SUITES.items():
        rows = _field_rows(entity)
        required = {e.column for e in expectations if isinstance(e, builder.gxe.ExpectColumnValuesToNotBeNull)}
        for field, row in rows.items():
            says = row["required"].startswith("yes")
            assert says == (field in required), (
                f"docs/sources.md, {entity}.{field}: required is '{row['required']}', the GX suite"
                f" {'requires' if field in required else 'does not require'} it"
            )
        for expectation in expectations:
            expected = None
            if isinstance(expectation, builder.gxe.ExpectColumnValuesToMatchRegex):
                expected = types.get(expectation.regex)
            elif isinstance(expectation, builder.gxe.ExpectColumnValuesToBeInSet):
                expected = "boolean" if set(expectation.value_set) == {"true", "false"} else "code"
            if expected:
                actual = rows[expectation.column]["type"]
                assert actual == expected, (
                    f"docs/sources.md, {entity}.{expectation.column}: type '{actual}', the GX suite checks {expected}"
                )


def test_every_example_row_fits_its_entity(codes):
    for entity, section in SECTIONS.items():
        blocks = re.findall(r"```csv\n(.*?)```", section, flags=re.DOTALL)
        assert len(blocks) == 1, f"docs/sources.md, {entity}: expected one example CSV block, found {len(blocks)}"
        header, *rows = list(csv.reader(io.StringIO(blocks[0])))
        unknown = sorted(set(header) - set(ENTITIES[entity]))
        assert not unknown, f"docs/sources.md, {entity}: example header names unknown field(s) {unknown}"
        assert rows, f"docs/sources.md, {entity}: example has no row"
        for row in rows:
            assert len(row) == len(header), f"docs/sources.md, {entity}: example row {row} does not fit its header"
            for field, value in zip(header, row, strict=True):
                allowed = set().union(*codes.get((entity, field), {}).values())
                if value and field != "score" and allowed:
                    assert value in allowed, f"docs/sources.md, {entity}: example {field} '{value}' is not a code"


def _literal_codes(annotation: object) -> set[str]:
    return (
        {str(value) for value in typing.get_args(annotation)}
        if typing.get_origin(annotation) is typing.Literal
        else set()
    )


def test_every_definition_key_is_documented():
    sections = _sections()
    for model, heading in ((SourceSet, "### Top-level keys"), (Source, "### Source keys")):
        assert heading in sections, f"docs/sources.md has no '{heading}' section"
        rows = _tables(sections[heading], KEY_COLUMNS)
        missing = [key for key in model.model_fields if key not in rows]
        assert not missing, f"docs/sources.md, {heading}: no row for key(s) {', '.join(missing)}"
        unknown = sorted(set(rows) - set(model.model_fields))
        assert not unknown, f"docs/sources.md, {heading}: rows for keys sources.py does not accept: {unknown}"
        for key, field in model.model_fields.items():
            row = rows[key]
            codes = _literal_codes(field.annotation) | (set(ENTITIES) if key == "entity" else set())
            missing = sorted(code for code in codes if f"`{code}`" not in row["meaning"] + row["default"])
            assert not missing, f"docs/sources.md, key {key}: the allowed values {missing} are not named"
            if isinstance(field.default, str | int) and field.default != "":
                assert f"`{field.default}`" in row["default"], (
                    f"docs/sources.md, key {key}: the default is `{field.default}`, the table says '{row['default']}'"
                )
