"""Read a source file's records and map them to canonical fields, chunk by chunk.

Everything a source definition says is applied here: header row, encoding, delimiter,
null markers, regular-expression extraction, value maps, decimal comma, durations, datetime
formats and time zone. A value that cannot be mapped is kept as written and reported as a
`Problem` (row, field, value, reason) so that validation can quarantine its row and a
person can see why; nothing is dropped here.

Rows are numbered as a spreadsheet numbers them: the header row, then one number per
record (a record whose quoted text spans lines is one row; a blank line is a row too).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from itss_warehouse.ingest.sources import Source

CHUNK_ROWS = 100_000


class SourceFileError(ValueError):
    pass


@dataclass(frozen=True)
class Problem:
    row: int
    field: str
    value: str
    reason: str


@dataclass
class MappedChunk:
    frame: pd.DataFrame  # canonical fields plus _source_row
    problems: list[Problem]


def cell_text(value: object) -> str:
    """An Excel cell as the text a source value is read from (date-times in ISO 8601)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass
class RawChunk:
    frame: pd.DataFrame  # source headers, all text
    rows: list[int]  # each row's number, as a spreadsheet shows it
    rejected: list[Problem]  # records that could not be split into the header's fields


def is_excel(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".xlsm")


def _excel_chunks(path: Path, source: Source) -> Iterator[RawChunk]:
    frame = pd.read_excel(path, sheet_name=source.sheet or 0, dtype=object, skiprows=source.header_row - 1)
    first = source.header_row + 1
    yield RawChunk(frame.map(cell_text), list(range(first, first + len(frame))), [])


def _csv_chunks(path: Path, source: Source, chunk_rows: int) -> Iterator[RawChunk]:
    # The csv module rather than pandas: it streams, and a record with the wrong number of
    # fields is rejected with its row number and text instead of failing the whole file.
    with path.open(encoding=source.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=source.delimiter)
        for _ in range(source.header_row - 1):
            next(reader, None)
        header = [name.strip() for name in next(reader, [])]
        records: list[list[str]] = []
        rows: list[int] = []
        rejected: list[Problem] = []
        for row, fields in enumerate(reader, start=source.header_row + 1):
            if fields and len(fields) != len(header):
                text = source.delimiter.join(fields)
                rejected.append(Problem(row, "", text, f"expected {len(header)} fields, found {len(fields)}"))
            elif fields:
                records.append(fields)
                rows.append(row)
            if len(records) >= chunk_rows:
                yield RawChunk(pd.DataFrame(records, columns=header, dtype=str), rows, rejected)
                records, rows, rejected = [], [], []
        yield RawChunk(pd.DataFrame(records, columns=header, dtype=str), rows, rejected)


def read_raw(path: Path, source: Source, chunk_rows: int | None = None) -> Iterator[RawChunk]:
    """The file's records as text under their headers, in chunks of at most ``chunk_rows``."""
    try:
        if is_excel(path):
            yield from _excel_chunks(path, source)
        else:
            yield from _csv_chunks(path, source, chunk_rows or CHUNK_ROWS)
    except (ValueError, UnicodeDecodeError, OSError, csv.Error) as error:
        raise SourceFileError(f"{path.name}: cannot be read as source '{source.name}': {error}") from error


class HeaderError(SourceFileError):
    """A header that does not fit the source: every problem found, not only the first."""

    def __init__(self, file_name: str, source: Source, problems: list[str]) -> None:
        self.file_name, self.source_name, self.problems = file_name, source.name, problems
        super().__init__(f"{file_name}: " + "; ".join(problems))


def header_problems(header: list[str], source: Source) -> list[str]:
    """Every way ``header`` fails the source: missing and repeated mapped columns, with near misses named."""
    problems = []
    missing = [name for name in source.headers if name not in header]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)} required by source '{source.name}'")
    # A header differing only in case or spacing is the usual cause: name it beside the column it should be.
    by_folded = {_folded(name): name for name in header if name not in source.headers}
    problems += [
        f"column '{by_folded[_folded(name)]}' differs from the mapped column '{name}' only in case or spacing"
        for name in missing
        if _folded(name) in by_folded
    ]
    if missing and len(missing) == len(source.headers):
        shown = ", ".join(repr(name) for name in header[:8]) + (", …" if len(header) > 8 else "")
        problems.append(f"none of the mapped columns is in header row {source.header_row} ({shown}): is header_row,"
                        f" delimiter '{source.delimiter}' or sheet right?")  # fmt: skip
    repeated = sorted({name for name in source.headers if header.count(name) > 1})
    if repeated:
        problems.append(f"column(s) {', '.join(repeated)} appear more than once")
    return problems


def _folded(name: str) -> str:
    return "".join(name.split()).casefold()


def check_header(header: list[str], source: Source, file_name: str) -> None:
    """Fail, naming the file and every header problem, unless every mapped column appears exactly once."""
    problems = header_problems(header, source)
    if problems:
        raise HeaderError(file_name, source, problems)


def _flag(problems: list[Problem], rows: pd.Series, column: pd.Series, bad: pd.Series, field: str, reason: str) -> None:
    problems.extend(
        Problem(int(row), field, str(value), reason) for row, value in zip(rows[bad], column[bad], strict=True)
    )


# A value carrying its own UTC offset ("Z", "+08:00", "-0500") names an instant.
OFFSET_SUFFIX = r"(?:[Zz]|[+-]\d{2}:?\d{2})$"


def _parse_times(column: pd.Series, formats: list[str], timezone: str) -> pd.Series:
    """The instants the values name, in ``timezone``; NaT where no format reads a value.

    Declared formats first; ISO 8601 last, which also reads cells Excel stored as dates. A
    value with an offset keeps its instant; one without is a wall-clock time in ``timezone``.
    """
    parsed = pd.Series(pd.NaT, index=column.index, dtype=f"datetime64[ns, {timezone}]")
    has_offset = column.str.contains(OFFSET_SUFFIX, na=False)
    for fmt in [*formats, "ISO8601"]:
        for offset in (False, True):
            missing = parsed.isna() & column.notna() & (has_offset == offset)
            if missing.any():
                values = pd.to_datetime(column[missing], format=fmt, errors="coerce", utc=offset)
                parsed[missing] = values.dt.tz_convert(timezone) if offset else _wall_clock(values, timezone)
    return parsed


def _iso_text(parsed: pd.Series, with_offset: bool) -> pd.Series:
    """The local date, or local time and UTC offset (``2026-03-01T08:00:00+0800``), as text.

    Written with numpy rather than ``strftime``, which takes seconds per million values.
    """
    local = parsed.dt.tz_localize(None)
    text = pd.Series(np.datetime_as_string(local.to_numpy(), unit="s" if with_offset else "D"), index=parsed.index)
    if not with_offset:
        return text
    minutes = (local - parsed.dt.tz_convert("UTC").dt.tz_localize(None)).dt.total_seconds() // 60
    return text + minutes.map({minute: _offset_label(int(minute)) for minute in minutes.dropna().unique()})


def _offset_label(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


# Durations as the tools write them: ServiceNow's display value ("1 Day 2 Hours 3 Minutes"),
# Jira's short form ("2h 30m", "-1h 5m"; a month is four weeks and a year twelve months, as
# Jira counts them), a clock ("26:15:00", "-0:45") or a number of minutes.
_DURATION_PART = re.compile(
    r"(\d+(?:\.\d+)?)\s*(years?|yrs?|months?|mo|weeks?|w|days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"(\d+):(\d{2})(?::(\d{2}))?")
_UNIT_MINUTES = {"y": 12 * 4 * 7 * 24 * 60, "mo": 4 * 7 * 24 * 60, "w": 7 * 24 * 60, "d": 24 * 60, "h": 60, "m": 1,
                 "s": 1 / 60}  # fmt: skip


def _unit_minutes(unit: str) -> float:
    unit = unit.lower()
    return _UNIT_MINUTES["mo" if unit.startswith("mo") else unit[0]]


def duration_minutes(text: str) -> float | None:
    """The minutes a duration names, negative for time past a target; None when it is no duration."""
    body = text.strip()
    sign = -1 if body[:1] in ("-", "\u2212") else 1
    if body[:1] in ("+", "-", "\u2212"):
        body = body[1:].lstrip()
    if re.fullmatch(r"\d+(?:\.\d+)?", body):
        return sign * float(body)
    if clock := _CLOCK.fullmatch(body):
        hours, minutes, seconds = (int(part or 0) for part in clock.groups())
        return sign * (hours * 60 + minutes + seconds / 60)
    parts = _DURATION_PART.findall(body)
    if not parts or _DURATION_PART.sub("", body).strip(" ,"):
        return None
    return sign * sum(float(number) * _unit_minutes(unit) for number, unit in parts)


def _minutes_text(minutes: float) -> str:
    return f"{minutes:.4f}".rstrip("0").rstrip(".")


def _wall_clock(values: pd.Series, timezone: str) -> pd.Series:
    # As the SLA calendars read them: a time skipped when daylight saving starts is the
    # moment of the skip, a time that repeats when it ends is its first occurrence.
    first_occurrence = np.ones(len(values), dtype=bool)
    return values.dt.tz_localize(timezone, ambiguous=first_occurrence, nonexistent="shift_forward")


def _stripped(column: pd.Series) -> pd.Series:
    return column.str.strip()


class Mapper:
    def __init__(self, source: Source, default_timezone: str) -> None:
        self.source = source
        self.timezone = source.timezone or default_timezone
        self.nulls = {"", *source.null_markers}  # an empty cell is never a value
        self.extract = {field: re.compile(pattern) for field, pattern in source.extract.items()}

    def map(self, chunk: RawChunk, file_name: str) -> MappedChunk:
        raw = chunk.frame
        raw.columns = [str(column).strip() for column in raw.columns]
        check_header(list(raw.columns), self.source, file_name)
        frame, rows = self._records(raw, chunk.rows)
        for field, value in self.source.constants.items():
            frame[field] = value
        problems = list(chunk.rejected)
        for field, pattern in self.extract.items():
            extracted = frame[field].str.extract(pattern, expand=False)
            _flag(problems, rows, frame[field], frame[field].notna() & extracted.isna(), field,
                  f"does not match {pattern.pattern}")  # fmt: skip
            frame[field] = extracted.fillna(frame[field])
        for field, translation in self.source.values.items():
            column = frame[field]
            known = column.isin(translation.keys()) | column.isin(translation.values()) | column.isna()
            _flag(problems, rows, column, ~known, field, "value not in the mapping's value map")
            frame[field] = column.where(~column.isin(translation.keys()), column.map(translation))
        for field in self.source.numbers:
            frame[field] = self._number(frame[field], rows, field, problems)
        for field in self.source.durations:
            frame[field] = self._duration(frame[field], rows, field, problems)
        for field in self.source.timestamps:
            frame[field] = self._time(frame[field], rows, field, problems, self.source.datetime_formats, True)
        for field in self.source.dates:
            frame[field] = self._time(frame[field], rows, field, problems, self.source.date_formats, False)
        frame.insert(0, "_source_row", rows)
        return MappedChunk(frame, problems)

    def _records(self, raw: pd.DataFrame, row_numbers: list[int]) -> tuple[pd.DataFrame, pd.Series]:
        """The mapped columns under their fields, trimmed, null markers nulled, and each record's row number.

        With a split, each row gives one record per key whose columns hold a value (an empty
        group is no record: Jira leaves an SLA that does not apply to an issue empty).
        """
        rows = pd.Series(row_numbers, dtype="int64")
        frame = self._cleaned(raw, self.source.columns)
        split = self.source.split
        if not split:
            return frame, rows
        parts, numbers = [], []
        for key, group in split.columns.items():
            values = self._cleaned(raw, group).reindex(columns=self.source.split_fields)
            present = values.notna().any(axis=1)
            part = pd.concat([frame[present], values[present]], axis=1)
            part[split.field] = key
            parts.append(part)
            numbers.append(rows[present])
        # In row order, a row's records in the keys' order.
        numbered = pd.concat(numbers, ignore_index=True).sort_values(kind="stable")
        records = pd.concat(parts, ignore_index=True).loc[numbered.index]
        return records.reset_index(drop=True), numbered.reset_index(drop=True)

    def _cleaned(self, raw: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
        frame = raw[list(columns)].rename(columns=columns).reset_index(drop=True)
        frame = frame.apply(_stripped)
        return frame.mask(frame.isin(self.nulls))

    def _number(self, column: pd.Series, rows: pd.Series, field: str, problems: list[Problem]) -> pd.Series:
        text = column.str.replace(" ", "", regex=False)
        if self.source.decimal == ",":
            text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        valid = pd.to_numeric(text, errors="coerce")
        bad = column.notna() & valid.isna()
        _flag(problems, rows, column, bad, field, "not a number")
        return text.where(~bad, column)

    def _duration(self, column: pd.Series, rows: pd.Series, field: str, problems: list[Problem]) -> pd.Series:
        minutes = {text: duration_minutes(text) for text in column.dropna().unique()}
        read = column.map({text: _minutes_text(value) for text, value in minutes.items() if value is not None})
        bad = column.notna() & read.isna()
        _flag(problems, rows, column, bad, field, "not a duration")
        return read.where(~bad, column)

    def _time(
        self, column: pd.Series, rows: pd.Series, field: str, problems: list[Problem], formats: list[str], is_ts: bool
    ) -> pd.Series:
        parsed = _parse_times(column, formats, self.timezone)
        bad = column.notna() & parsed.isna()
        _flag(problems, rows, column, bad, field, "not a timestamp" if is_ts else "not a date")
        return _iso_text(parsed, is_ts).where(parsed.notna(), column)


def read_mapped(
    path: Path, source: Source, default_timezone: str, chunk_rows: int | None = None
) -> Iterator[MappedChunk]:
    """Yield the file's rows mapped to canonical fields, in chunks of at most ``chunk_rows`` rows."""
    mapper = Mapper(source, default_timezone)
    for raw in read_raw(path, source, chunk_rows):
        yield mapper.map(raw, path.name)
