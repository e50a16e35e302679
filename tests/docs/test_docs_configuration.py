"""docs/configuration.md's table of settings is the one Settings' field descriptions generate."""

from __future__ import annotations

import pytest

from itss_warehouse.settings import (
    CONFIGURATION_DOC,
    REFERENCE_BEGIN,
    REFERENCE_END,
    Settings,
    configuration_reference,
    with_configuration_reference,
)


def test_the_configuration_doc_is_current():
    document = CONFIGURATION_DOC.read_text(encoding="utf-8")
    assert with_configuration_reference(document) == document, (
        "docs/configuration.md is not current: run `python -m itss_warehouse.settings`"
        " (in the activated environment) and commit the page"
    )


def test_every_setting_has_a_row_with_its_variable_and_description():
    rows = configuration_reference().splitlines()[2:]
    assert len(rows) == len(Settings.model_fields)
    for row, (name, field) in zip(rows, Settings.model_fields.items(), strict=True):
        assert row.startswith(f"| `ITSS_{name.upper()}` |") and row.endswith(f"| {field.description} |")


def test_defaults_are_shown_as_in_the_repository_not_on_this_machine():
    reference = configuration_reference()
    assert "| `ITSS_SOURCES_FILE` | `src/itss_warehouse/mappings/demo.yml` |" in reference
    assert "| `ITSS_WAREHOUSE_URL` | unset |" in reference
    assert "| `ITSS_MAIL_RETRY_DELAY` | `30` |" in reference
    assert str(CONFIGURATION_DOC.parents[1]) not in reference


def test_a_document_without_the_markers_is_refused():
    with pytest.raises(ValueError, match="block in the document"):
        with_configuration_reference(f"# Configuration\n\n{REFERENCE_BEGIN}\n| a table |\n")
    assert with_configuration_reference(f"before\n{REFERENCE_BEGIN}\nstale\n{REFERENCE_END}\nafter").endswith(
        f"{REFERENCE_END}\nafter"
    )
