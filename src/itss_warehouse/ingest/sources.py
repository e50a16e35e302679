"""Source definitions: which landing files feed which raw table, and how to map them.

A definition file (YAML, e.g. ``mappings/demo.yml``) lists sources; each maps a file
pattern to an entity (the raw table), source headers to canonical field names, and
source values to canonical codes. Adding a ticket tool means writing such a file.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from itss_warehouse.ingest.canonical import ENTITIES, SOURCE_SETTINGS


class SourceDefinitionError(ValueError):
    pass


def _check_timezone(name: str | None) -> str | None:
    if name is not None:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{name}'") from None
    return name


class Split(BaseModel):
    """Several records from each row: one per key, with that key's columns (Jira's one column per SLA)."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="The canonical field each record's key is written to.")
    columns: dict[str, dict[str, str]] = Field(min_length=1, description="Key → {source header: canonical field}.")


class Source(BaseModel):
    """One kind of landing file and how its rows map to a canonical entity."""

    model_config = ConfigDict(extra="forbid")

    name: str
    entity: str
    type: Literal["file", "sql", "rest"] = "file"
    pattern: str = Field(default="", description="Landing file glob; sql/rest extracts land as NAME__*.csv.")
    # sql and rest sources: where to extract from, and which column carries the watermark
    connection_env: str | None = Field(default=None, description="Environment variable holding the URL.")
    query: str | None = Field(default=None, description="SQL with a :watermark parameter.")
    watermark_column: str | None = None
    initial_watermark: str = "1970-01-01 00:00:00"
    updated_since_param: str = "updated_since"
    page_param: str = "page"
    page_size: int = Field(default=500, ge=1)
    records_key: str | None = Field(default=None, description="Key of the record list in a JSON page.")
    sheet: str | None = None
    header_row: int = Field(default=1, ge=1, description="Row number of the header (1 = first line).")
    encoding: str = "utf-8-sig"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    decimal: Literal[".", ","] = "."
    null_markers: list[str] = Field(
        default=[""], description="Values meaning 'no value' besides the empty cell, e.g. ?, N/A."
    )
    columns: dict[str, str]
    split: Split | None = None
    extract: dict[str, str] = Field(default={}, description="Field → regex whose one group is the value.")
    constants: dict[str, str] = Field(default={}, description="Field → the value every row of this source has.")
    values: dict[str, dict[str, str]] = {}
    numbers: list[str] = []
    durations: list[str] = Field(default=[], description="Fields read as durations, kept as minutes.")
    timestamps: list[str] = []
    dates: list[str] = []
    datetime_formats: list[str] = Field(default=[], description="strptime formats tried before ISO 8601.")
    date_formats: list[str] = []
    timezone: str | None = Field(default=None, description="Time zone of naive timestamps; default: the file's.")
    # Many tools close tickets without a resolution time (DECISIONS.md "Closed without a
    # resolution time"): either way the ticket counts as resolved when closed; this says
    # whether its resolution SLA is judged on that time or not measured.
    closed_without_resolution: Literal["closed_at", "unmeasured"] = "closed_at"
    # A tool_sla_records source: whether the tool's records only supply the times its ticket
    # export lacks, judged by our policies and calendars (ours), or also give the verdict (tool).
    sla_clock: Literal["ours", "tool"] = "ours"

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding '{encoding}'") from None
        return encoding

    @field_validator("extract")
    @classmethod
    def _one_group(cls, patterns: dict[str, str]) -> dict[str, str]:
        for field, pattern in patterns.items():
            try:
                groups = re.compile(pattern).groups
            except re.error as error:
                raise ValueError(f"extract.{field}: invalid regular expression: {error}") from None
            if groups != 1:
                raise ValueError(f"extract.{field}: the expression needs exactly one group, has {groups}")
        return patterns

    _timezone = field_validator("timezone")(_check_timezone)

    @model_validator(mode="after")
    def _type_settings(self) -> Source:
        if self.type == "file" and not self.pattern:
            raise ValueError("a file source needs a pattern")
        if self.type != "file":
            missing = [key for key in ("connection_env", "watermark_column") if not getattr(self, key)]
            if self.type == "sql" and (not self.query or ":watermark" not in self.query):
                missing.append("query (with :watermark)")
            if missing:
                raise ValueError(f"a {self.type} source needs {', '.join(missing)}")
            if self.watermark_column not in self.columns:
                raise ValueError(f"watermark_column '{self.watermark_column}' is not a key of columns")
            self.pattern = self.pattern or f"{self.name}__*.csv"
        return self

    @model_validator(mode="after")
    def _fields_are_mapped(self) -> Source:
        canonical = set(self.columns.values())
        both = sorted(canonical & set(self.constants))
        if both:
            raise ValueError(f"constants and columns both set: {', '.join(both)}")
        canonical |= set(self.constants)
        if self.split:
            if self.split.field in canonical:
                raise ValueError(f"split.field {self.split.field} is also in columns or constants")
            canonical |= {self.split.field, *(f for group in self.split.columns.values() for f in group.values())}
        for kind in ("extract", "values", "numbers", "durations", "timestamps", "dates"):
            unknown = sorted(set(getattr(self, kind)) - canonical)
            if unknown:
                raise ValueError(f"{kind} names fields not in columns: {', '.join(unknown)}")
        if self.entity not in ENTITIES:
            raise ValueError(f"unknown entity '{self.entity}' (known: {', '.join(ENTITIES)})")
        unknown = sorted(canonical - set(ENTITIES[self.entity]))
        if unknown:
            raise ValueError(f"columns map to fields that {self.entity} does not have: {', '.join(unknown)}")
        for setting in sorted(canonical & set(SOURCE_SETTINGS)):
            raise ValueError(f"{setting} is a setting of the source (a key), not a column or constant")
        return self

    @property
    def fields(self) -> list[str]:
        split = [self.split.field, *self.split_fields] if self.split else []
        return [*self.columns.values(), *self.constants, *split]

    @property
    def split_fields(self) -> list[str]:
        """The canonical fields the split's groups fill, once each."""
        groups = self.split.columns.values() if self.split else []
        return list(dict.fromkeys(field for group in groups for field in group.values()))

    @property
    def headers(self) -> list[str]:
        """Every source header the mapping reads."""
        groups = self.split.columns.values() if self.split else []
        return [*self.columns, *(header for group in groups for header in group)]


class SourceSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str
    sources: list[Source]

    _timezone = field_validator("timezone")(_check_timezone)

    def source_for(self, file_name: str) -> Source:
        """The source whose pattern matches ``file_name``; a clear error when none or several do."""
        matches = [source for source in self.sources if Path(file_name).match(source.pattern)]
        if len(matches) != 1:
            found = ", ".join(source.name for source in matches) or "none"
            raise SourceDefinitionError(f"{file_name}: expected exactly one matching source, found {found}")
        return matches[0]


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
