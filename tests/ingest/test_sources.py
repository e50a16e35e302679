from pathlib import Path

import pytest

from itss_warehouse.ingest.sources import Source, SourceDefinitionError, load_sources
from itss_warehouse.settings import PACKAGE_DIR


def test_shipped_demo_mapping_is_valid():
    definitions = load_sources(PACKAGE_DIR / "mappings" / "demo.yml")
    tickets = next(source for source in definitions.sources if source.entity == "tickets")
    assert tickets.columns["工单编号"] == "ticket_id"
    assert tickets.values["priority"] == {"紧急": "P1", "高": "P2", "中": "P3", "低": "P4"}


def test_error_names_the_file_and_the_key(tmp_path: Path):
    path = tmp_path / "broken.yml"
    path.write_text(
        "timezone: Asia/Shanghai\n"
        "sources:\n"
        "  - name: t\n    entity: tickets\n    pattern: '*.csv'\n"
        "    columns: {a: ticket_id}\n    timestamps: [opened_at]\n",
        encoding="utf-8",
    )
    with pytest.raises(
        SourceDefinitionError, match=r"broken\.yml: sources\.0.*timestamps names fields not in columns: opened_at"
    ):
        load_sources(path)


def test_unknown_key_is_rejected(tmp_path: Path):
    path = tmp_path / "typo.yml"
    path.write_text(
        "timezone: UTC\nsources:\n  - {name: t, entity: tickets, pattern: x, columns: {a: ticket_id}, colums: {}}\n"
    )
    with pytest.raises(SourceDefinitionError, match=r"typo\.yml: sources\.0\.colums"):
        load_sources(path)


def _ticket_source(**settings) -> Source:
    return Source(**{"name": "t", "entity": "tickets", "pattern": "*.csv", "columns": {"号": "ticket_id"}, **settings})


def test_closed_without_resolution_defaults_to_the_closing_time():
    assert _ticket_source().closed_without_resolution == "closed_at"
    assert _ticket_source(closed_without_resolution="unmeasured").closed_without_resolution == "unmeasured"


@pytest.mark.parametrize(
    "settings",
    [
        {"closed_without_resolution": "ignore"},
        {"constants": {"closed_without_resolution": "unmeasured"}},
        {"columns": {"号": "ticket_id", "规则": "closed_without_resolution"}},
    ],
)
def test_closed_without_resolution_is_a_setting_with_known_values(settings):
    with pytest.raises(ValueError, match="closed_without_resolution"):
        _ticket_source(**settings)


@pytest.mark.parametrize(
    "settings",
    [
        {"sla_clock": "theirs"},
        {"constants": {"sla_clock": "tool"}},
        {"columns": {"号": "ticket_id", "时钟": "sla_clock"}},
    ],
)
def test_the_sla_clock_is_a_setting_with_known_values(settings):
    with pytest.raises(ValueError, match="sla_clock"):
        Source(**{"name": "s", "entity": "tool_sla_records", "pattern": "*.csv", "columns": {"号": "ticket_id"},
                  **settings})  # fmt: skip
