"""Land and map, as the nightly DAG's load_raw and map_raw tasks do one after the other."""

from __future__ import annotations

from pathlib import Path

from itss_warehouse.ingest.landing import load_landing
from itss_warehouse.ingest.map_batches import MappedBatch, map_landed
from itss_warehouse.ingest.sources import SourceSet


def ingest(url: str, landing: Path, sources: SourceSet) -> list[MappedBatch]:
    load_landing(url, landing, sources)
    return map_landed(url, sources)
