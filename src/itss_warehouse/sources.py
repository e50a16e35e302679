"""Source definitions: which landing files feed which raw table, and how to map them.

A definition file (YAML, e.g. ``mappings/demo.yml``) lists sources; each maps a file
pattern to an entity (the raw table), source headers to canonical field names, and
source values to canonical codes. Adding a ticket tool means writing such a file.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator


class SourceDefinitionError(ValueError):
    pass


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    entity: str
    pattern: str
    sheet: str | None = None
    columns: dict[str, str]
    values: dict[str, dict[str, str]] = {}
    timestamps: list[str] = []
    dates: list[str] = []

    @model_validator(mode="after")
    def _fields_are_mapped(self) -> Source:
        canonical = set(self.columns.values())
        for kind, fields in (("values", list(self.values)), ("timestamps", self.timestamps), ("dates", self.dates)):
            unknown = sorted(set(fields) - canonical)
            if unknown:
                raise ValueError(f"{kind} names fields not in columns: {', '.join(unknown)}")
        if not self.entity.isidentifier() or not all(f.isidentifier() for f in canonical):
            raise ValueError("entity and canonical field names must be identifiers")
        return self

    @property
    def fields(self) -> list[str]:
        return list(self.columns.values())


class SourceSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str
    sources: list[Source]


def load_sources(path: Path) -> SourceSet:
    """Read and validate a definition file; errors name the file and the offending key."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        return SourceSet.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}" for issue in error.errors()
        )
        raise SourceDefinitionError(f"{path}: {problems}") from None
    except (OSError, yaml.YAMLError) as error:
        raise SourceDefinitionError(f"{path}: {error}") from None
