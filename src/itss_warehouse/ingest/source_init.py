"""Propose a source definition for a ticket export nobody has mapped yet (`itss source init`).

It reads a sample of the file (its encoding, delimiter and header row, below any title
rows), matches the headers to canonical ticket fields through ``field_dictionary.yml`` and
looks at the values: null markers, timestamp formats, whether rows are versions of a
ticket (event style), and value maps for the coded fields. The result is the text of a
definition file whose comments say what was found and what is left to decide (``TODO``);
a person reviews it and checks it against the export with ``itss source check``.

Headers and values come from the file and are hostile: each is written back as a YAML
scalar that reads as the same text, and into comments only quoted where it could break
out of the line.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import textwrap
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from itss_warehouse.ingest.canonical import ENTITIES
from itss_warehouse.ingest.mapping import cell_text, is_excel
from itss_warehouse.ingest.sources import load_sources
from itss_warehouse.settings import PACKAGE_DIR

DICTIONARY_FILE = Path(__file__).with_name("field_dictionary.yml")
MAPPINGS_DIR = PACKAGE_DIR / "mappings"
TICKET_FIELDS = ENTITIES["tickets"]
# The fields every shipped ticket mapping sets: a proposal without one says so.
ESSENTIAL_FIELDS = ("ticket_id", "ticket_type", "project_id", "priority", "opened_at", "status")
SAMPLE_ROWS = 5_000
HEADER_SEARCH_ROWS = 20
MIN_HEADER_MATCHES = 2  # a title row may hold one known word; a header names several fields
VALUES_SHOWN = 20
ENCODINGS = ("utf-8-sig", "gb18030")  # utf-8-sig reads utf-8 with and without a byte order mark
DELIMITERS = (",", ";", "\t", "|")
DEFAULT_TIMEZONE = "Asia/Shanghai"
# strptime formats tried on the values ISO 8601 does not read, each with the order of day
# and month it assumes: a file is read day first or month first, never both.
DATETIME_FORMATS: tuple[tuple[str, str | None], ...] = (
    ("%d/%m/%Y %H:%M", "day"), ("%d/%m/%Y %H:%M:%S", "day"),
    ("%d/%m/%Y %I:%M %p", "day"), ("%d/%m/%Y %I:%M:%S %p", "day"),
    ("%d.%m.%Y %H:%M", "day"), ("%d.%m.%Y %H:%M:%S", "day"), ("%d-%m-%Y %H:%M", "day"), ("%d-%m-%Y %H:%M:%S", "day"),
    ("%m/%d/%Y %H:%M", "month"), ("%m/%d/%Y %H:%M:%S", "month"),
    ("%m/%d/%Y %I:%M %p", "month"), ("%m/%d/%Y %I:%M:%S %p", "month"),
    ("%d/%b/%y %I:%M %p", None), ("%d/%b/%Y %I:%M %p", None), ("%d-%b-%Y %H:%M", None), ("%d-%b-%Y %H:%M:%S", None),
    ("%Y年%m月%d日 %H:%M", None), ("%Y年%m月%d日 %H:%M:%S", None), ("%Y年%m月%d日 %H时%M分", None),
)  # fmt: skip


class SourceInitError(ValueError):
    """The file cannot be proposed a mapping: unreadable, or no header row found."""


class FieldDictionaryError(ValueError):
    pass


def fold(text: str) -> str:
    """How names and values are compared: ignoring case, spaces, "_" and "-"."""
    return re.sub(r"[\s_\-]+", "", text).casefold()


# --- the field dictionary -------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    headers: dict[str, str]  # folded header → field, preferred names first
    constants: dict[str, tuple[str, str]]  # field → (value, the shipped mapping setting it)


@dataclass(frozen=True)
class FieldDictionary:
    tools: dict[str, Tool]
    values: dict[str, dict[str, str]]  # coded field → folded value → canonical code
    null_markers: tuple[str, ...]

    def codes(self, field: str) -> list[str]:
        return list(dict.fromkeys(self.values[field].values()))


def _add(table: dict[str, str], key: str, meaning: str, what: str) -> None:
    if not key:
        raise FieldDictionaryError(f"{DICTIONARY_FILE.name}: {what} is empty once case, spaces, _ and - are ignored")
    if table.setdefault(key, meaning) != meaning:
        raise FieldDictionaryError(f"{DICTIONARY_FILE.name}: {what} means both {table[key]} and {meaning}")


def _check_field(field: str, where: str) -> None:
    if field not in TICKET_FIELDS:
        raise FieldDictionaryError(f"{DICTIONARY_FILE.name}: {where}: '{field}' is not a ticket field")


def load_dictionary(path: Path = DICTIONARY_FILE) -> FieldDictionary:
    """The dictionary with its tools' shipped mappings read in; a name meaning two things is an error."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    every_header: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    tools = {}
    for name, entry in document["tools"].items():
        pairs: list[tuple[str, str]] = []
        constants: dict[str, tuple[str, str]] = {}
        for mapping in entry.get("mappings", []):
            for source in load_sources(MAPPINGS_DIR / mapping).sources:
                if source.entity != "tickets":
                    raise FieldDictionaryError(f"{DICTIONARY_FILE.name}: {mapping} maps {source.entity}, not tickets")
                pairs += source.columns.items()
                for field, value in source.constants.items():
                    constants.setdefault(field, (value, mapping))
                for field, translation in source.values.items():
                    for value, code in translation.items():
                        _add(values.setdefault(field, {}), fold(value), code, f"{field} value '{value}' ({mapping})")
        for field, names in entry.get("headers", {}).items():
            _check_field(field, f"tools.{name}.headers")
            pairs += [(header, field) for header in names]
        headers: dict[str, str] = {}
        for header, field in pairs:
            _add(headers, fold(header), field, f"header '{header}' of {name}")
            _add(every_header, fold(header), field, f"header '{header}'")
        tools[name] = Tool(name, entry["description"], headers, constants)
    for field, codes in document["values"].items():
        _check_field(field, "values")
        for code, listed in codes.items():
            for value in [code, *listed]:
                _add(values.setdefault(field, {}), fold(value), code, f"{field} value '{value}'")
    return FieldDictionary(tools, values, tuple(document["null_markers"]))


# --- reading a sample -----------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    file_name: str
    header: list[str]  # stripped, as the mapping strips them
    header_row: int  # 1 = first row
    records: list[list[str]]  # rows below the header with one cell per header, stripped
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None

    def column(self, header: str) -> list[str]:
        index = self.header.index(header)
        return [record[index] for record in self.records]


def _header_row(rows: list[list[str]], known: set[str]) -> tuple[int, int]:
    """Index of the row (among the first few) naming the most known fields, and how many it names."""
    scores = [len({fold(cell) for cell in row} & known) for row in rows[:HEADER_SEARCH_ROWS]]
    best = max(range(len(scores)), key=lambda index: scores[index], default=0)
    return best, scores[best] if scores else 0


def _sample_from_rows(file_name: str, rows: list[list[str]], known: set[str], **settings: str) -> Sample | None:
    index, matches = _header_row(rows, known)
    if matches < MIN_HEADER_MATCHES:
        return None
    header = [cell.strip() for cell in rows[index]]
    records = [[cell.strip() for cell in row] for row in rows[index + 1 :] if len(row) == len(header) and any(row)]
    return Sample(file_name, header, index + 1, records, **settings)


def _no_header(path: Path, where: str = "") -> SourceInitError:
    return SourceInitError(
        f"{path.name}: no header row found{where}: none of the first {HEADER_SEARCH_ROWS} rows names"
        f" {MIN_HEADER_MATCHES} or more ticket fields that {DICTIONARY_FILE.name} knows (is it a ticket export?"
        " With --tool only that tool's names are tried)"
    )


def _decoded_text(path: Path) -> tuple[str, str, bool]:
    """The file's first lines as text, the first encoding that reads them, and whether more lines follow."""
    for encoding in ENCODINGS:
        try:
            with path.open(encoding=encoding, newline="") as handle:
                text = "".join(itertools.islice(handle, HEADER_SEARCH_ROWS + SAMPLE_ROWS))
                return text, encoding, handle.readline() != ""
        except UnicodeDecodeError:
            continue
        except OSError as error:
            raise SourceInitError(f"{path.name}: cannot be read: {error.strerror or error}") from None
    raise SourceInitError(f"{path.name}: is neither {' nor '.join(ENCODINGS)} text")


def _delimiter(text: str) -> str:
    """The delimiter splitting most rows into the same number (above one) of fields."""

    def score(delimiter: str) -> tuple[int, int]:
        rows = list(itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), 200))
        widths = Counter(len(row) for row in rows if len(row) > 1)
        width, count = widths.most_common(1)[0] if widths else (0, 0)
        return count, width

    return max(DELIMITERS, key=score)


def _csv_sample(path: Path, known: set[str]) -> Sample:
    text, encoding, truncated = _decoded_text(path)
    try:
        delimiter = _delimiter(text)
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as error:
        raise SourceInitError(f"{path.name}: cannot be read as CSV: {error}") from None
    if truncated:
        rows = rows[:-1]  # the last line read may end inside a quoted field
    sample = _sample_from_rows(path.name, rows, known, encoding=encoding, delimiter=delimiter)
    if sample is None:
        raise _no_header(path, f" (delimiter {delimiter!r}, encoding {encoding})")
    return sample


def _excel_sample(path: Path, known: set[str]) -> Sample:
    """The sample of the sheet whose header names the most known fields."""
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object, nrows=HEADER_SEARCH_ROWS + SAMPLE_ROWS)
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as error:
        raise SourceInitError(f"{path.name}: cannot be read as an Excel workbook: {error}") from None
    samples = []
    for name, frame in sheets.items():
        rows = frame.map(cell_text).values.tolist()
        sample = _sample_from_rows(path.name, rows, known, sheet=str(name))
        if sample is not None:
            samples.append((len({fold(cell) for cell in sample.header} & known), sample))
    if not samples:
        raise _no_header(path, f" in any sheet ({', '.join(map(str, sheets))})")
    return max(samples, key=lambda scored: scored[0])[1]


def read_sample(path: Path, known: set[str]) -> Sample:
    """A sample of the file's rows under its header, the row naming the most ``known`` (folded) headers."""
    if path.is_dir():
        raise SourceInitError(f"{path}: is a folder, not an export file")
    if not path.exists():
        raise SourceInitError(f"{path}: no such file")
    return _excel_sample(path, known) if is_excel(path) else _csv_sample(path, known)


# --- matching headers -----------------------------------------------------------------


@dataclass(frozen=True)
class HeaderMatch:
    columns: dict[str, str]  # header → field, in the file's order
    tools: list[str]  # the tools whose names were used, the preferred one first
    also: dict[str, str]  # header → the mapped header that took its field (a field takes one column)
    repeated: dict[str, str]  # header appearing more than once → the field it names
    unknown: list[str]  # headers naming no field

    def header_of(self, field: str) -> str | None:
        return next((header for header, mapped in self.columns.items() if mapped == field), None)


def detect_tool(header: list[str], dictionary: FieldDictionary) -> str:
    """The tool knowing the most of the headers (the first listed on a tie)."""
    folded = {fold(name) for name in header}
    return max(dictionary.tools.values(), key=lambda tool: len(folded & tool.headers.keys())).name


def match_headers(header: list[str], dictionary: FieldDictionary, preferred: str, only_preferred: bool) -> HeaderMatch:
    tools = [dictionary.tools[preferred]]
    if not only_preferred:
        tools += [tool for tool in dictionary.tools.values() if tool.name != preferred]
    counts = Counter(header)
    candidates: dict[str, list[tuple[tuple[int, int], str]]] = {}  # field → (rank, header)
    unknown, repeated, used = [], {}, set()
    for name in dict.fromkeys(name for name in header if name):
        ranks = [(rank, list(tool.headers).index(fold(name)), tool) for rank, tool in enumerate(tools)
                 if fold(name) in tool.headers]  # fmt: skip
        if not ranks:
            unknown.append(name)
            continue
        rank, position, tool = ranks[0]
        field = tool.headers[fold(name)]
        if counts[name] > 1:
            repeated[name] = field
        else:
            candidates.setdefault(field, []).append(((rank, position), name))
            used.add(tool.name)
    chosen = {field: min(names)[1] for field, names in candidates.items()}
    also = {name: chosen[field] for field, names in candidates.items() for _, name in names if name != chosen[field]}
    fields = {name: field for field, name in chosen.items()}
    columns = {name: fields[name] for name in header if name in fields}
    return HeaderMatch(columns, [tool.name for tool in tools if tool.name in used], also, repeated, unknown)


# --- looking at the values ------------------------------------------------------------


def null_markers(sample: Sample, headers: list[str], dictionary: FieldDictionary) -> Counter[str]:
    """The dictionary's null markers found as whole cells of ``headers``, with how often."""
    cells = Counter(cell for header in headers for cell in sample.column(header))
    return Counter({marker: cells[marker] for marker in dictionary.null_markers if cells[marker]})


def present(values: list[str], nulls: set[str]) -> list[str]:
    return [value for value in values if value not in nulls]


@dataclass(frozen=True)
class TimestampFormats:
    formats: list[str]
    examples: dict[str, str]  # format → a value it reads
    order_note: str | None  # how day and month order was decided, when a format depends on it
    unread: list[str]  # values no format reads


def _reads(values: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(values, format=fmt, errors="coerce", utc=True).notna()


def _parts(value: str) -> list[str]:
    return re.split(r"[/.\-\s]", value)


def timestamp_formats(values: list[str]) -> TimestampFormats:
    """The formats, beyond ISO 8601, that read ``values``; day first unless a value says month first."""
    distinct = pd.Series(sorted(set(values)), dtype=object)
    rest = distinct[~_reads(distinct, "ISO8601")] if len(distinct) else distinct
    by_order = {order: pd.Series(False, index=rest.index) for order in ("day", "month")}
    for fmt, order in DATETIME_FORMATS:
        if order:
            by_order[order] |= _reads(rest, fmt)
    day_only, month_only = (rest[by_order[a] & ~by_order[b]] for a, b in (("day", "month"), ("month", "day")))
    order, note = "day", None
    if len(day_only) and len(month_only):
        note = (f"values are written both day first ({day_only.iloc[0]}) and month first ({month_only.iloc[0]}):"
                " TODO: find out which the tool writes; the others are reported as not timestamps")  # fmt: skip
    elif len(month_only):
        order, note = (
            "month",
            f"month first: {month_only.iloc[0]} cannot be day first (no month {_parts(month_only.iloc[0])[1]})",
        )
    elif len(day_only):
        note = f"day first: {day_only.iloc[0]} cannot be month first (no month {_parts(day_only.iloc[0])[0]})"
    elif (by_order["day"] & by_order["month"]).any():
        note = ("TODO: no value tells day-first from month-first (every day is 12 or less): day first is assumed;"
                " if the tool writes month first use the %m/%d/ formats instead")  # fmt: skip
    formats, examples = [], {}
    for fmt, fmt_order in DATETIME_FORMATS:
        read = _reads(rest, fmt) if fmt_order in (None, order) else pd.Series(False, index=rest.index)
        if read.any():
            formats.append(fmt)
            examples[fmt] = rest[read].iloc[0]
            rest = rest[~read]
    uses_order = any(fmt_order for fmt, fmt_order in DATETIME_FORMATS if fmt in formats)
    return TimestampFormats(formats, examples, note if uses_order or len(rest) else None, rest.tolist())


@dataclass(frozen=True)
class EventStyle:
    repeated_keys: int  # ticket ids with more than one row in the sample
    example: str | None


def event_style(sample: Sample, key_header: str | None, nulls: set[str]) -> EventStyle:
    if key_header is None:
        return EventStyle(0, None)
    counts = Counter(present(sample.column(key_header), nulls))
    repeated = [key for key, count in counts.items() if count > 1]
    return EventStyle(len(repeated), repeated[0] if repeated else None)


@dataclass(frozen=True)
class ValueMap:
    known: dict[str, str]  # source value → canonical code
    unknown: Counter[str]  # source value → rows


def value_map(values: list[str], lookup: dict[str, str]) -> ValueMap:
    counts = Counter(values)
    known = {value: lookup[fold(value)] for value in counts if fold(value) in lookup}
    return ValueMap(known, Counter({value: count for value, count in counts.items() if value not in known}))


# --- writing YAML ---------------------------------------------------------------------


def _quoted(text: str) -> str:
    """``text`` double-quoted, escaping what YAML would not read back or what would end a line."""
    escaped = ("\\" + char if char in '"\\' else char if char.isprintable() else f"\\U{ord(char):08x}" for char in text)
    return '"' + "".join(escaped) + '"'


def _scalar(text: str) -> str:
    """``text`` as a YAML key or value: plain where YAML reads it back as the same string, else quoted."""
    if text and text.isprintable() and text == text.strip():
        try:
            if yaml.safe_load(f"{text}: {text}") == {text: text}:
                return text
        except yaml.YAMLError:
            pass
    return _quoted(text)


def _printable(text: str) -> str:
    """``text`` for a comment: as written unless a character of it could end the comment's line."""
    return text if text.isprintable() else _quoted(text)


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(_quoted(item) for item in items) + "]"


def _comment(text: str, indent: int) -> list[str]:
    """``text`` as comment lines of at most 100 characters (longer only where one word is)."""
    lines = textwrap.wrap(text, max(100 - indent - 2, 40), break_long_words=False, break_on_hyphens=False)
    return [f"{' ' * indent}# {line}" for line in lines]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def _block(key: str, entries: list[str], indent: int) -> list[str]:
    """``key:`` over its entries; commented out with them when every entry is a comment (it would read as null)."""
    if all(entry.lstrip().startswith("#") for entry in entries):
        return [f"{' ' * indent}# {key}:", *entries]
    return [f"{' ' * indent}{key}:", *entries]


# --- the proposal ---------------------------------------------------------------------


@dataclass(frozen=True)
class Findings:
    """What the sample says, before it is written as a definition."""

    sample: Sample
    match: HeaderMatch
    columns: dict[str, str]  # header → field, as proposed
    not_event_counter: str | None  # an update counter left unmapped: no ticket repeats
    nulls: Counter[str]  # null markers found, with their cells
    style: EventStyle
    constants: dict[str, tuple[str, str]]  # field → (value, the shipped mapping setting it)
    values: dict[str, ValueMap]  # coded field → its values
    times: TimestampFormats | None

    @property
    def missing(self) -> list[str]:
        given = {*self.columns.values(), *self.constants}
        return [field for field in ESSENTIAL_FIELDS if field not in given]


def examine(path: Path, tool: str | None = None, dictionary: FieldDictionary | None = None) -> Findings:
    """Read a sample of the ticket export at ``path`` and work out what its definition should say."""
    dictionary = dictionary or load_dictionary()
    if tool is not None and tool not in dictionary.tools:
        raise SourceInitError(f"unknown tool '{tool}' (known: {', '.join(dictionary.tools)})")
    tools = [dictionary.tools[tool]] if tool else list(dictionary.tools.values())
    sample = read_sample(path, {name for each in tools for name in each.headers})
    preferred = tool or detect_tool(sample.header, dictionary)
    match = match_headers(sample.header, dictionary, preferred, only_preferred=tool is not None)
    found_nulls = null_markers(sample, list(match.columns), dictionary)
    nulls = {"", *found_nulls}
    style = event_style(sample, match.header_of("ticket_id"), nulls)
    columns = dict(match.columns)
    # An update counter orders the versions of a ticket: with one row per ticket it is shown, not mapped.
    counter = match.header_of("update_sequence")
    not_event_counter = counter if counter and not style.repeated_keys else None
    columns.pop(not_event_counter or "", None)
    values = {
        field: value_map(present(sample.column(header), nulls), dictionary.values[field])
        for header, field in columns.items()
        if field in dictionary.values
    }
    times = [value for header, field in columns.items() if field.endswith("_at")
             for value in present(sample.column(header), nulls)]  # fmt: skip
    return Findings(
        sample, match, columns, not_event_counter, found_nulls, style,
        {field: setting for field, setting in dictionary.tools[preferred].constants.items()
         if field not in columns.values()},
        {field: found for field, found in values.items() if found.known or found.unknown},
        timestamp_formats(times) if any(field.endswith("_at") for field in columns.values()) else None,
    )  # fmt: skip


def render(findings: Findings, dictionary: FieldDictionary) -> str:
    """The text of the definition file: the findings as keys, and comments saying why and what is left."""
    pattern, name = _pattern(findings.sample.file_name)
    lines = _preamble(findings, dictionary)
    lines += ["timezone: " + DEFAULT_TIMEZONE, "sources:", f"  - name: {_scalar(name)}", "    entity: tickets",
              f"    pattern: {_quoted(pattern)}",
              *_comment("The zone of times written without an offset: the exporting user's (else the tool's) time"
                        " zone.", 4),
              "    timezone: " + DEFAULT_TIMEZONE]  # fmt: skip
    lines += _layout_lines(findings.sample)
    if findings.nulls:
        seen = ", ".join(f"{_printable(marker)} ({_count(count, 'cell')})" for marker, count in findings.nulls.items())
        lines += _comment(f"Whole cells of the mapped columns meaning no value: {seen}.", 4)
        lines.append(f"    null_markers: {_flow(['', *findings.nulls])}")
    lines += _block("columns", _column_lines(findings), 4)
    if findings.missing:
        lines += _comment(f"TODO: no column recognised for {', '.join(findings.missing)}: map one under columns, or"
                          " set the value every row has under constants.", 4)  # fmt: skip
    if findings.constants:
        setters = ", ".join(sorted({mapping for _, mapping in findings.constants.values()}))
        lines += _comment(f"No column gives {', '.join(findings.constants)}: {setters} sets it for every row of the"
                          " tool's export.", 4)  # fmt: skip
        pairs = (f"{field}: {_scalar(value)}" for field, (value, _) in findings.constants.items())
        lines.append("    constants: {" + ", ".join(pairs) + "}")
    value_lines = [
        line for field, found in findings.values.items() for line in _value_lines(field, found, dictionary.codes(field))
    ]
    if value_lines:
        lines += _comment(
            "The values found in the sample: one a later export adds is reported by `itss source check`"
            " as not in the value map.",
            4,
        )
        lines += _block("values", value_lines, 4)
    if findings.times:
        lines += _timestamp_lines(
            [field for field in findings.columns.values() if field.endswith("_at")], findings.times
        )
    return "\n".join(lines) + "\n"


def propose(path: Path, tool: str | None = None) -> str:
    """The text of a definition file proposed for the ticket export at ``path``."""
    dictionary = load_dictionary()
    return render(examine(path, tool, dictionary), dictionary)


def _preamble(findings: Findings, dictionary: FieldDictionary) -> list[str]:
    sample, match = findings.sample, findings.match
    where = f"sheet {_printable(sample.sheet)}, " if sample.sheet else ""
    names = "; ".join(dictionary.tools[tool].description for tool in match.tools)
    headers = len(set(filter(None, sample.header)))
    return [
        *_comment(f"Proposed by `itss source init` from {_printable(sample.file_name)} ({where}header in row"
                  f" {sample.header_row}, {_count(len(sample.records), 'sample row')}).", 0),
        *_comment(f"{len(findings.columns)} of {headers} headers mapped, by the names of {names}.", 0),
        "# A proposal, not a checked mapping: review every line (the TODOs first), then run",
        f"#   itss source check {_printable(sample.file_name)} --mapping THIS_FILE",
        "# Only the tickets entity is defined here: copy this source into the definition file the",
        "# warehouse loads (ITSS_SOURCES_FILE) next to the PMO sources (projects, SLA policies, …).",
    ]  # fmt: skip


def _pattern(file_name: str) -> tuple[str, str]:
    """The landing pattern and the source name proposed from the file name: its stem without a trailing date."""
    path = Path(file_name)
    prefix = re.sub(r"[\d_\-.\s]*\d[\d_\-.\s]*$", "", path.stem) or path.stem
    glob = re.sub(r"([*?\[])", r"[\1]", prefix)  # the stem's own wildcard characters, literal
    name = re.sub(r"\W+", "_", prefix).strip("_").lower() or "tickets"
    return f"{glob}*{path.suffix}", name


def _layout_lines(sample: Sample) -> list[str]:
    """Sheet, header row, encoding and delimiter, where they differ from a definition's defaults."""
    lines = [f"    sheet: {_scalar(sample.sheet)}"] if sample.sheet else []
    if sample.header_row != 1:
        lines.append(f"    header_row: {sample.header_row}   # the rows above it are titles")
    if sample.encoding == "gb18030":
        lines.append("    encoding: gb18030")
    if sample.delimiter and sample.delimiter != ",":
        lines.append(f"    delimiter: {_quoted(sample.delimiter)}")
    return lines


def _column_lines(findings: Findings) -> list[str]:
    match, style = findings.match, findings.style
    counter, updated = match.header_of("update_sequence"), match.header_of("updated_at")
    lines = []
    for header in match.columns:
        if header == findings.not_event_counter:
            key = match.header_of("ticket_id") or "no ticket id"
            lines += _comment(
                f"Not mapped: {_printable(key)} does not repeat in the sample, one row per ticket (not"
                " event style); map it to update_sequence if the export has one row per update.",
                6,
            )
            lines.append(f"      # {_scalar(header)}: update_sequence")  # fmt: skip
            continue
        if style.repeated_keys and header == (counter or updated):
            lines += _event_comment(findings)
        lines.append(f"      {_scalar(header)}: {match.columns[header]}")
    if style.repeated_keys and not updated:
        lines += _event_comment(findings)
    for header, mapped in match.also.items():
        lines += _comment(f"{_printable(mapped)} is mapped to {match.columns[mapped]}, which takes one column:", 6)
        lines.append(f"      # {_scalar(header)}: {match.columns[mapped]}")
    for header, field in match.repeated.items():
        lines += _comment(f"Appears {findings.sample.header.count(header)} times; a mapped column must appear once:", 6)
        lines.append(f"      # {_scalar(header)}: {field}")
    if match.unknown:
        lines += _comment("Not recognised: map a header to a canonical ticket field, or leave it out.", 6)
        lines += [f"      # {_scalar(header)}:" for header in match.unknown]
    return lines


def _event_comment(findings: Findings) -> list[str]:
    match, style = findings.match, findings.style
    key = _printable(match.header_of("ticket_id") or "")
    counter, updated = match.header_of("update_sequence"), match.header_of("updated_at")
    text = (f"Event style: {key} repeats in the sample ({style.repeated_keys} ticket(s) with more than one row, e.g."
            f" {_printable(style.example or '')}): each row is a version of its ticket. ")  # fmt: skip
    if updated and counter:
        text += (f"{_printable(updated)} is its update time (updated_at), {_printable(counter)} its update counter"
                 " (update_sequence, the tie-break of two updates in one second);")  # fmt: skip
    elif updated:
        text += (f"{_printable(updated)} is its update time (updated_at); TODO: no update counter was recognised: map"
                 " one to update_sequence if the export has it (two updates in one second cannot be ordered without"
                 " it);")  # fmt: skip
    else:
        text += "TODO: no update time was recognised: map the column holding it to updated_at;"
    return _comment(text + " the marts keep each ticket's latest version and derive its status history from them.", 6)


def _value_lines(field: str, found: ValueMap, codes: list[str]) -> list[str]:
    known = sorted(found.known.items(), key=lambda pair: codes.index(pair[1]))  # stable: the sample's order within
    lines = [f"        {_scalar(value)}: {_scalar(code)}" for value, code in known]
    if found.unknown:
        lines += _comment(f"TODO: not recognised: map each to one of {', '.join(codes)}, or filter its rows out of the"
                          " export:", 8)  # fmt: skip
        shown = found.unknown.most_common(VALUES_SHOWN)
        lines += [f"        # {_scalar(value)}:   # {_count(count, 'row')}" for value, count in shown]
        if len(found.unknown) > len(shown):
            lines.append(f"        # … and {len(found.unknown) - len(shown)} more distinct values")
    return _block(field, lines, 6)


def _timestamp_lines(fields: list[str], found: TimestampFormats) -> list[str]:
    lines = [f"    timestamps: [{', '.join(fields)}]"]
    if found.formats:
        examples = ", ".join(f"{_printable(found.examples[fmt])} ({_printable(fmt)})" for fmt in found.formats)
        lines += _comment(f"Read before ISO 8601, which reads the other values; found: {examples}.", 4)
    if found.order_note:
        lines += _comment(f"Day and month: {_printable(found.order_note)}.", 4)
    if found.formats:
        lines.append(f"    datetime_formats: {_flow(found.formats)}")
    if found.unread:
        shown = ", ".join(_printable(value) for value in found.unread[:5])
        lines += _comment(f"TODO: {len(found.unread)} value(s) match no known format, e.g. {shown}: add their strptime"
                          " format to datetime_formats, or they are reported as not timestamps.", 4)  # fmt: skip
    return lines
