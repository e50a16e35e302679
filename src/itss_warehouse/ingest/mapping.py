"""Read a source file's records and map them to canonical fields, chunk by chunk.

Everything a source definition says is applied here: header row, encoding, delimiter,
null markers, regular-expression extraction, value maps, decimal comma, datetime formats
and time zone. A value that cannot be mapped is kept as written and reported as a
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
    missing = [name for name in source.columns if name not in header]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)} required by source '{source.name}'")
    # A header differing only in case or spacing is the usual cause: name it beside the column it should be.
    by_folded = {_folded(name): name for name in header if name not in source.columns}
    problems += [
        f"column '{by_folded[_folded(name)]}' differs from the mapped column '{name}' only in case or spacing"
        for name in missing
        if _folded(name) in by_folded
    ]
    if missing and len(missing) == len(source.columns):
        shown = ", ".join(repr(name) for name in header[:8]) + (", …" if len(header) > 8 else "")
        problems.append(f"none of the mapped columns is in header row {source.header_row} ({shown}): is header_row,"
                        f" delimiter '{source.delimiter}' or sheet right?")  # fmt: skip
    repeated = sorted({name for name in source.columns if header.count(name) > 1})
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


def _wall_clock(values: pd.Series, timezone: str) -> pd.Series:
    # As the SLA calendars read them: a time skipped when daylight saving starts is the
    # moment of the skip, a time that repeats when it ends is its first occurrence.
    first_occurrence = np.ones(len(values), dtype=bool)
    return values.dt.tz_localize(timezone, ambiguous=first_occurrence, nonexistent="shift_forward")


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
        frame = raw[list(self.source.columns)].rename(columns=self.source.columns).reset_index(drop=True)
        frame = frame.apply(lambda column: column.str.strip())
        frame = frame.mask(frame.isin(self.nulls))
        for field, value in self.source.constants.items():
            frame[field] = value
        rows = pd.Series(chunk.rows, dtype="int64")
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
            frame[field] = column.map(lambda value, table=translation: table.get(value, value))
        for field in self.source.numbers:
            frame[field] = self._number(frame[field], rows, field, problems)
        for field in self.source.timestamps:
            frame[field] = self._time(frame[field], rows, field, problems, self.source.datetime_formats, True)
        for field in self.source.dates:
            frame[field] = self._time(frame[field], rows, field, problems, self.source.date_formats, False)
        frame.insert(0, "_source_row", rows)
        return MappedChunk(frame, problems)

    def _number(self, column: pd.Series, rows: pd.Series, field: str, problems: list[Problem]) -> pd.Series:
        text = column.str.replace(" ", "", regex=False)
        if self.source.decimal == ",":
            text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        valid = pd.to_numeric(text, errors="coerce")
        bad = column.notna() & valid.isna()
        _flag(problems, rows, column, bad, field, "not a number")
        return text.where(~bad, column)

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
