"""The committed GX suites are exactly what itss_warehouse.validate.suites defines."""

from __future__ import annotations

import pytest

from itss_warehouse.ingest.canonical import ENTITIES
from itss_warehouse.settings import Settings
from itss_warehouse.validate.runner import open_context


@pytest.fixture(scope="module")
def builder():
    from itss_warehouse.validate import suites

    return suites


def _shape(expectation) -> tuple:
    config = expectation.configuration
    kwargs = {key: value for key, value in config.kwargs.items() if key != "batch_id"}
    return config.type, repr(sorted(kwargs.items())), repr(sorted((config.meta or {}).items())), str(config.severity)


def test_every_canonical_entity_has_a_raw_suite(builder):
    assert set(builder.RAW_SUITES) == set(ENTITIES)


def test_committed_suites_match_the_definitions(builder, tmp_path):
    # Opened as the pipeline opens it; no warehouse is connected to for reading the suites.
    context = open_context(Settings(_env_file=None, home=tmp_path), "postgresql://unused")
    defined = {f"raw_{name}": suite for name, suite in builder.RAW_SUITES.items()}
    defined |= {f"marts_{name}": suite for name, suite in builder.MART_SUITES.items()}
    committed = {suite.name: suite for suite in context.suites.all()}
    assert set(committed) == set(defined), "run expectations/build_suites.py and commit the result"
    for name, expectations in defined.items():
        assert sorted(map(_shape, committed[name].expectations)) == sorted(map(_shape, expectations)), name
    assert {checkpoint.name for checkpoint in context.checkpoints.all()} == set(defined)
