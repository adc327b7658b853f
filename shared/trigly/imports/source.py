"""Reading an import file: encoding, format, records with their line numbers, rows of events.

Files are read as bytes in a stream, so the CLI, the API's split step and each chunk (a ranged
read of the uploaded object) share one reader. A CSV record ends at a line break outside quotes
(a quoted cell may hold line breaks), so a file can be cut into chunks at record boundaries
without parsing it; line numbers are physical lines, as an editor shows them (the header is 1).
UTF-8 (with or without a BOM) and Windows-1251, as Russian Excel saves CSV, are both read;
the delimiter is whichever of `;` `,` tab `|` the header uses most.
"""

import codecs
import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain
from typing import Any, Literal
from zoneinfo import ZoneInfo

from trigly.imports.csv_rows import Columns, RowContext, Warning, map_row

Format = Literal["csv", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl")
HEAD_BYTES = 64 * 1024
DELIMITERS = (";", ",", "\t", "|")
UTF8_BOM = b"\xef\xbb\xbf"


class ImportFileError(ValueError):
    """The file as a whole cannot be read (wrong encoding, no header, unknown format)."""


@dataclass(frozen=True)
class RawRecord:
    line: int  # physical line the record starts on (1-based)
    offset: int  # byte offset of its first byte in the file
    data: bytes


@dataclass(frozen=True)
class Layout:
    """What every chunk must know about the file to read its own part of it."""

    format: Format
    encoding: str = "utf-8"
    delimiter: str = ","
    header: tuple[str, ...] = ()
    data_offset: int = 0  # where the first data record starts
    data_line: int = 1


@dataclass
class SourceRow:
    line: int
    events: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    error: str | None = None  # the line could not be read at all


def format_for(name: str | None) -> Format | None:
    """The format a file name implies, if any."""
    lowered = (name or "").lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith((".csv", ".txt", ".tsv")):
        return "csv"
    return None


def detect_encoding(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError("UTF-16 files are not supported: save the file as UTF-8 CSV.")
    try:
        # The head may end inside a multi-byte character: an incremental decoder allows that.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1251"
    return "utf-8"


def detect_format(head: bytes) -> Format:
    text = head.lstrip(UTF8_BOM).lstrip()
    return "jsonl" if text.startswith(b"{") else "csv"


def physical_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Lines with their line break, from a stream of byte chunks."""
    rest = b""
    for chunk in chunks:
        if not chunk:
            continue
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        for part in parts:
            yield part + b"\n"
    if rest:
        yield rest


def records(
    lines: Iterable[bytes], fmt: Format, *, first_line: int = 1, offset: int = 0
) -> Iterator[RawRecord]:
    """Lines grouped into records: one line each in JSON Lines; in CSV, until quotes balance."""
    number, position = first_line, offset
    pending: list[bytes] = []
    start_line, start_offset, quotes = number, position, 0
    for line in lines:
        if not pending:
            start_line, start_offset, quotes = number, position, 0
        pending.append(line)
        number += 1
        position += len(line)
        if fmt == "csv":
            quotes += line.count(b'"')
            if quotes % 2:
                continue  # a quoted cell goes on over the line break
        yield RawRecord(start_line, start_offset, b"".join(pending))
        pending = []
    if pending:
        yield RawRecord(start_line, start_offset, b"".join(pending))


def _cells(text: str, delimiter: str) -> list[str]:
    return next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter), [])


def _cells_multiline(text: str, delimiter: str) -> list[str]:
    rows = list(csv.reader(text.splitlines(keepends=True), delimiter=delimiter))
    return rows[0] if rows else []


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def open_stream(chunks: Iterable[bytes], fmt: Format | None) -> tuple[Layout, Iterator[RawRecord]]:
    """Read the head of a file to learn its layout; returns it and the data records after it."""
    stream = iter(chunks)
    head_chunks: list[bytes] = []
    size = 0
    for chunk in stream:
        head_chunks.append(chunk)
        size += len(chunk)
        if size >= HEAD_BYTES:
            break
    head = b"".join(head_chunks)
    encoding = detect_encoding(head)
    chosen: Format = fmt or detect_format(head)
    found = records(physical_lines(chain(head_chunks, stream)), chosen)
    if chosen == "jsonl":
        return Layout("jsonl", encoding), found
    header_record = next(found, None)
    if header_record is None:
        raise ImportFileError("The file is empty: a CSV file needs a header line.")
    text = header_record.data.decode(encoding, errors="replace").lstrip("\ufeff")
    delimiter = _delimiter(text.splitlines()[0] if text else "")
    header = tuple(_cells_multiline(text, delimiter))
    if not Columns.read(list(header)).index:
        raise ImportFileError(
            "No known column in the CSV header; see docs/imports.md for the columns and aliases."
        )
    end = header_record.offset + len(header_record.data)
    line = header_record.line + header_record.data.count(b"\n")
    return Layout("csv", encoding, delimiter, header, end, line), found


def record_values(layout: Layout, record: RawRecord) -> object:
    """A record's values as written, unmapped (a CSV row's cells, a JSON line's object, or the
    line itself when it is not JSON): what erasure looks through for a person."""
    text = record.data.decode(layout.encoding, errors="replace")
    if layout.format == "jsonl":
        try:
            return json.loads(text)
        except ValueError:
            return text
    if "\n" in text.rstrip("\r\n"):
        return _cells_multiline(text, layout.delimiter)
    return _cells(text, layout.delimiter)


class Reader:
    """Turns records into rows of contract events, for one file (its layout) and tenant."""

    def __init__(
        self,
        layout: Layout,
        *,
        timezone: str,
        exported_at: datetime | None = None,
        today: date | None = None,
    ) -> None:
        self.layout = layout
        self.columns = Columns.read(list(layout.header))
        self.context = RowContext(self.columns, ZoneInfo(timezone), exported_at, today)

    def rows(self, found: Iterable[RawRecord]) -> Iterator[SourceRow]:
        for record in found:
            text = record.data.decode(self.layout.encoding, errors="replace")
            if record.offset == 0:
                text = text.lstrip("\ufeff")
            if not text.strip():
                continue
            if self.layout.format == "jsonl":
                yield self._json_row(record.line, text)
                continue
            if "\n" in text.rstrip("\r\n"):
                cells = _cells_multiline(text, self.layout.delimiter)
            else:
                cells = _cells(text, self.layout.delimiter)
            mapped = map_row(cells, self.context)
            if mapped.events:
                yield SourceRow(record.line, mapped.events, mapped.warnings)

    @staticmethod
    def _json_row(line: int, text: str) -> SourceRow:
        try:
            event = json.loads(text)
        except ValueError:
            return SourceRow(line, error="the line is not valid JSON")
        if not isinstance(event, dict):
            return SourceRow(line, error="the line is not a JSON object (one event per line)")
        return SourceRow(line, [event])
