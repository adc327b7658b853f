"""Reading import files: encodings, delimiters, multi-line CSV records, JSON Lines, chunks."""

import json
from datetime import date

import pytest

from trigly.imports.report import ImportReport
from trigly.imports.source import (
    ImportFileError,
    Reader,
    SourceRow,
    format_for,
    open_stream,
    physical_lines,
    records,
)

CSV = (
    "Код клиента;Фамилия;Телефон;VIN;Марка;Модель;Год выпуска;Комментарий\n"
    'C-1;Иванов;89123456789;XTA210740C1234567;Lada;Granta;2019;"две строки;\nвторая"\n'
    "\n"
    "C-2;Петрова;89031112233;;;;;\n"
    'C-3;"Сидоров ""Младший""";;;;;;\n'
)


def read(data: bytes, block: int = 7, fmt: str | None = None) -> tuple[list[SourceRow], Reader]:
    blocks = [data[i : i + block] for i in range(0, len(data), block)]
    layout, found = open_stream(blocks, fmt)  # type: ignore[arg-type]
    reader = Reader(layout, timezone="Europe/Moscow", today=date(2026, 11, 20))
    return list(reader.rows(found)), reader


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_csv_is_read_in_utf8_or_windows_1251_with_line_numbers(encoding: str) -> None:
    rows, reader = read(CSV.encode(encoding))

    assert reader.layout.encoding == ("cp1251" if encoding == "cp1251" else "utf-8")
    assert reader.layout.delimiter == ";"
    # The quoted comment spans lines 2-3; the blank line 4 is skipped
    assert [r.line for r in rows] == [2, 5, 6]
    assert rows[0].events[0]["data"]["last_name"] == "Иванов"
    assert rows[2].events[0]["data"]["last_name"] == 'Сидоров "Младший"'
    assert reader.columns.unknown == ("Комментарий",)


def test_comma_and_tab_delimited_files_are_recognized() -> None:
    for delimiter in (",", "\t"):
        text = CSV.replace(";", delimiter)
        rows, reader = read(text.encode())
        assert reader.layout.delimiter == delimiter
        assert rows[1].events[0]["data"]["external_id"] == "C-2"


def test_a_file_cut_at_record_offsets_reads_the_same_rows_as_whole() -> None:
    data = CSV.encode()
    layout, found = open_stream([data], "csv")
    cut = list(found)
    reader = Reader(layout, timezone="Europe/Moscow", today=date(2026, 11, 20))
    whole = [r.events for r in reader.rows(cut)]
    # When each record is read again from its own byte range, as a chunk would
    pieces = []
    for record in cut:
        chunk = data[record.offset : record.offset + len(record.data)]
        again = records(
            physical_lines([chunk]), "csv", first_line=record.line, offset=record.offset
        )
        pieces.extend(r.events for r in reader.rows(again))
    assert pieces == whole


def test_json_lines_pass_events_as_they_are_and_name_unreadable_lines() -> None:
    event = {"id": "e-1", "type": "customer.upserted", "occurred_at": "x", "data": {}}
    data = "\n".join([json.dumps(event), "", "{broken", "[1, 2]"]).encode()

    rows, _ = read(data, fmt="jsonl")

    assert [(r.line, r.error) for r in rows] == [
        (1, None),
        (3, "the line is not valid JSON"),
        (4, "the line is not a JSON object (one event per line)"),
    ]
    assert rows[0].events == [event]


def test_files_that_cannot_be_read_are_refused_whole() -> None:
    with pytest.raises(ImportFileError, match="UTF-16"):
        open_stream([CSV.encode("utf-16")], None)
    with pytest.raises(ImportFileError, match="No known column"):
        open_stream([b"foo;bar\n1;2\n"], "csv")
    with pytest.raises(ImportFileError, match="empty"):
        open_stream([b""], "csv")


def test_the_format_comes_from_the_name_or_the_content() -> None:
    assert format_for("base.CSV") == "csv" and format_for("events.jsonl") == "jsonl"
    assert format_for("export") is None
    _rows, reader = read(b'{"id": "a"}\n')
    assert reader.layout.format == "jsonl"


def test_reports_of_chunks_add_up() -> None:
    # Given two chunks' partial reports
    first, second = ImportReport("csv", True), ImportReport("csv", True)
    first.count_event("customer.upserted", "new", 3)
    second.count_event("customer.upserted", "new", 2)
    second.count_event("vehicle.sold", "invalid")
    for n in range(25):
        second.example("invalid", {"line": n})
    # When merged
    first.merge(second)
    body = first.as_json()
    # Then counts add per type, totals sum them, and examples stay capped
    assert body["by_type"]["customer.upserted"]["new"] == 5
    assert body["totals"] == {"new": 5, "existing": 0, "duplicates": 0, "invalid": 1, "accepted": 0}
    assert len(body["invalid"]["examples"]) == 20
