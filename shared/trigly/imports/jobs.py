"""Imports through the API: large files uploaded to S3, processed in chunks by ImportFunction.

    POST /v1/imports            → a job `awaiting_upload` and a presigned PUT URL (1 hour)
    PUT  <upload_url>           ← the file
    POST /v1/imports/{id}/start → `queued`: one `split` message on the import queue
    split  (ImportFunction)     → one streaming read of the object finds record boundaries every
                                  CHUNK_RECORDS records and queues one `chunk` message each
    chunk  (ImportFunction)     → a ranged GET of its bytes, the same reader and Importer as the
                                  CLI, then one UpdateItem adds its counts to the job
    GET  /v1/imports/{id}       → status and the report so far; `done` once every chunk counted

The uploaded file holds many people's contacts, so it is kept only while the import needs it:
deleted once the import is `done` or `failed` (the bucket's 30-day rule catches files never
started). Erasing a customer queues a `forget` look through each file still kept, with the
person's identifiers as keyed digests: a file that names them is deleted and its import ends
`failed`, with why.

The job item lives under the tenant, pk `T#{tenant}#IMPORTS`, sk the import id (a ULID, so a
Query lists newest first). Chunk counts are added atomically and only once per chunk (the chunk
number goes into a number set in the same conditional update), so an SQS redelivery of a chunk
never counts it twice; re-processing it only meets its own claims.
"""

import json
import os
import time
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, Field
from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import size
from pynamodb.expressions.update import Action

from trigly.imports import files
from trigly.imports.report import MAX_EXAMPLES, ImportReport
from trigly.imports.runner import Importer
from trigly.imports.source import (
    Format,
    ImportFileError,
    Layout,
    Reader,
    open_stream,
    physical_lines,
    record_values,
    records,
)
from trigly.platform import aws, clock, cursors, ids, tenancy
from trigly.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from trigly.platform.observability import logger
from trigly.store import keys
from trigly.store.models import MainItem, bind

CHUNK_RECORDS = 2_000  # ≈ 5,000 events of CSV rows: well under a minute of a Lambda
UPLOAD_URL_SECONDS = 3600
JOB_RETENTION_DAYS = 30  # as the archive bucket keeps a file that was never started
READ_BLOCK = 1024 * 1024
QUEUE_VARIABLE = "TRIGLY_IMPORT_QUEUE_URL"
LISTING = "imports"  # the list its cursors belong to

AWAITING_UPLOAD, QUEUED, PROCESSING, DONE, FAILED = (
    "awaiting_upload",
    "queued",
    "processing",
    "done",
    "failed",
)
EXAMPLE_KINDS = ("invalid", "contacts", "warnings")
KEEPS_FILE = {AWAITING_UPLOAD, QUEUED, PROCESSING}
FORGET_SECONDS = 120.0  # of looking through a file per message (ImportFunction times out at 300)
STOPPED_BY_ERASURE = (
    "Stopped: a customer named in this file was erased, so the file was deleted. "
    "Upload it again without them."
)


class ImportJobItem(MainItem, discriminator="import_job"):
    """pk `T#{tenant}#IMPORTS`, sk the import id: one import and its running counts."""

    tenant_id = UnicodeAttribute()
    connector_id = UnicodeAttribute()
    format = UnicodeAttribute()
    dry_run = BooleanAttribute()
    status = UnicodeAttribute()
    object_key = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    exported_at = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    chunks_total = NumberAttribute(null=True)
    chunks_counted = NumberSetAttribute(null=True)
    counts: MapAttribute[str, Any] = MapAttribute(default=dict)  # type: ignore[no-untyped-call]
    # Lists of strings (JSON examples, column names); PynamoDB types them as lists of attributes.
    unknown_columns: ListAttribute[Any] = ListAttribute(of=UnicodeAttribute, null=True)
    invalid_examples: ListAttribute[Any] = ListAttribute(of=UnicodeAttribute, null=True)
    contacts_examples: ListAttribute[Any] = ListAttribute(of=UnicodeAttribute, null=True)
    warnings_examples: ListAttribute[Any] = ListAttribute(of=UnicodeAttribute, null=True)


class ImportMessage(BaseModel):
    """A message on the import queue: split the object, or process one chunk of it."""

    tenant_id: str
    import_id: str
    step: Literal["split", "chunk", "forget"]
    chunk: int = 0
    start: int = 0  # byte range [start, end) of the chunk
    end: int = 0
    first_line: int = 1
    layout: dict[str, Any] | None = None
    person: list[str] = Field(default_factory=list)  # `forget`: keyed digests, never in clear


class CreateImport(BaseModel):
    format: Format
    connector_id: str
    dry_run: bool = False
    exported_at: AwareDatetime | None = None


def _pk(tenant_id: str) -> str:
    return f"{keys.tenant(tenant_id)}#IMPORTS"


def object_key(tenant_id: str, import_id: str) -> str:
    return f"imports/{tenant_id}/{import_id}"


def _queue_url() -> str:
    url = os.environ.get(QUEUE_VARIABLE)
    if not url:
        raise RuntimeError(f"{QUEUE_VARIABLE} is not set")
    return url


def _send(messages: list[ImportMessage]) -> None:
    aws.send_all(_queue_url(), [m.model_dump_json() for m in messages], "import messages")


# ------------------------------------------------------------------------------------ the API


def create(tenant_id: str, request: CreateImport) -> dict[str, Any]:
    """A new import waiting for its file; the answer carries the presigned upload URL."""
    try:
        tenancy.get_connector(tenant_id, request.connector_id)
    except NotFound as exc:
        raise ValidationFailed(
            errors=[FieldError("connector_id", "no such connector of this tenant")]
        ) from exc
    bind()
    now = clock.now()
    import_id = ids.new_id("imp")
    item = ImportJobItem(
        _pk(tenant_id),
        import_id,
        tenant_id=tenant_id,
        connector_id=request.connector_id,
        format=request.format,
        dry_run=request.dry_run,
        status=AWAITING_UPLOAD,
        object_key=object_key(tenant_id, import_id),
        created_at=clock.isoformat(now),
        updated_at=clock.isoformat(now),
        exported_at=request.exported_at.isoformat() if request.exported_at else None,
        counts={},
        expires_at=int((now + timedelta(days=JOB_RETENTION_DAYS)).timestamp()),
    )
    item.save()
    url = files.upload_url(item.object_key, UPLOAD_URL_SECONDS)
    return {**view(item), "upload_url": url}


def _load(tenant_id: str, import_id: str) -> ImportJobItem:
    bind()
    try:
        item = ImportJobItem.get(_pk(tenant_id), import_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("No such import.") from exc
    if not isinstance(item, ImportJobItem) or (
        item.expires_at is not None and item.expires_at <= int(clock.now().timestamp())
    ):
        raise NotFound("No such import.")
    return item


def get(tenant_id: str, import_id: str) -> dict[str, Any]:
    item = _load(tenant_id, import_id)
    return {**view(item), "report": report_of(item).as_json()}


def list_imports(
    tenant_id: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    bind()
    after = cursors.decode(LISTING, cursor, starts=("imp_",))
    query = ImportJobItem.query(
        _pk(tenant_id),
        ImportJobItem.sk < after if after else None,
        scan_index_forward=False,
        limit=limit,
    )
    items = [i for i in query if isinstance(i, ImportJobItem)]
    next_position = items[-1].sk if len(items) == limit and query.last_evaluated_key else None
    views = [{**view(i), "totals": report_of(i).totals()} for i in items]
    return views, cursors.encode(LISTING, next_position)


def start(tenant_id: str, import_id: str) -> dict[str, Any]:
    """The file is uploaded: queue its processing (once; a second start is a conflict)."""
    item = _load(tenant_id, import_id)
    if item.status != AWAITING_UPLOAD:
        raise Conflict(f"This import was already started (status `{item.status}`).")
    if not files.is_uploaded(item.object_key):
        raise Conflict("No file was uploaded yet: PUT it to the upload_url first.")
    try:
        item.update(
            actions=[
                ImportJobItem.status.set(QUEUED),
                ImportJobItem.updated_at.set(clock.isoformat(clock.now())),
            ],
            condition=ImportJobItem.status == AWAITING_UPLOAD,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("This import was already started.") from exc
        raise
    _send([ImportMessage(tenant_id=tenant_id, import_id=import_id, step="split")])
    return view(item)


def view(item: ImportJobItem) -> dict[str, Any]:
    return {
        "id": item.sk,
        "status": item.status,
        "format": item.format,
        "connector_id": item.connector_id,
        "dry_run": item.dry_run,
        "exported_at": item.exported_at,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "chunks": {"total": item.chunks_total, "done": len(item.chunks_counted or ())},
        "error": item.error,
    }


def report_of(item: ImportJobItem) -> ImportReport:
    counts = item.counts.as_dict() if item.counts is not None else {}  # type: ignore[no-untyped-call]
    report = ImportReport(item.format, item.dry_run)
    for name, n in counts.items():
        report.count(name, int(n))
    for kind in EXAMPLE_KINDS:
        for text in getattr(item, f"{kind}_examples") or []:
            report.example(kind, json.loads(text))
    report.unknown_columns = list(item.unknown_columns or [])
    return report


# --------------------------------------------------------------------------- the function


def handle(body: str) -> None:
    """One message of the import queue."""
    message = ImportMessage.model_validate_json(body)
    if message.step == "split":
        split(message)
    elif message.step == "forget":
        forget_person(message)
    else:
        process_chunk(message)


def _set_status(item: ImportJobItem, status: str, **fields: Any) -> None:
    actions: list[Action] = [
        ImportJobItem.status.set(status),
        ImportJobItem.updated_at.set(clock.isoformat(clock.now())),
    ]
    actions += [getattr(ImportJobItem, name).set(value) for name, value in fields.items()]
    item.update(actions=actions)


def split(message: ImportMessage) -> None:
    """One streaming read of the object: chunk boundaries every CHUNK_RECORDS records."""
    item = _load(message.tenant_id, message.import_id)
    if item.status not in {QUEUED, PROCESSING}:
        return
    blocks = files.read_blocks(item.object_key, READ_BLOCK)
    try:
        fmt: Format = "jsonl" if item.format == "jsonl" else "csv"
        layout, found = open_stream(blocks, fmt)
        tenant = tenancy.get_tenant_cached(message.tenant_id)
        unknown = list(Reader(layout, timezone=tenant.timezone).columns.unknown)
        chunks = _boundaries(message, layout, found)
    except ImportFileError as exc:
        _set_status(item, FAILED, error=str(exc))
        _discard_file(item)
        return
    _set_status(item, DONE if not chunks else PROCESSING, chunks_total=len(chunks))
    if not chunks:
        _discard_file(item)
    if unknown:
        item.update(actions=[ImportJobItem.unknown_columns.set(unknown)])
    _send(chunks)
    logger.info("import split", extra={"import_id": item.sk, "chunks": len(chunks)})


def _boundaries(message: ImportMessage, layout: Layout, found: Any) -> list[ImportMessage]:
    chunks: list[ImportMessage] = []
    start = end = layout.data_offset
    first_line, count = layout.data_line, 0
    layout_json = _layout_json(layout)

    def close() -> None:
        chunks.append(
            ImportMessage(
                tenant_id=message.tenant_id,
                import_id=message.import_id,
                step="chunk",
                chunk=len(chunks),
                start=start,
                end=end,
                first_line=first_line,
                layout=layout_json,
            )
        )

    for record in found:
        if count == 0:
            start, first_line = record.offset, record.line
        end = record.offset + len(record.data)
        count += 1
        if count == CHUNK_RECORDS:
            close()
            count = 0
    if count:
        close()
    return chunks


def process_chunk(message: ImportMessage) -> None:
    """Read this chunk's bytes, run them through the Importer, add its counts to the job once."""
    item = _load(message.tenant_id, message.import_id)
    if message.chunk in (item.chunks_counted or set()) or item.status != PROCESSING:
        return
    tenant = tenancy.get_tenant_cached(message.tenant_id)
    layout = _layout_of(message.layout or {}, item.format)
    data = b""
    if message.end > message.start:
        data = files.read_range(item.object_key, message.start, message.end)
    now = clock.now()
    exported = datetime.fromisoformat(item.exported_at) if item.exported_at else None
    reader = Reader(
        layout,
        timezone=tenant.timezone,
        exported_at=exported,
        today=now.astimezone(ZoneInfo(tenant.timezone)).date(),
    )
    importer = Importer(
        tenant,
        item.connector_id,
        dry_run=item.dry_run,
        report=ImportReport(layout.format, item.dry_run),
        received_at=now,
        columns=reader.columns if layout.format == "csv" else None,
    )
    found = records(
        physical_lines([data]), layout.format, first_line=message.first_line, offset=message.start
    )
    importer.add(reader.rows(found))
    _count_chunk(item, message.chunk, importer.finish())


def _count_chunk(item: ImportJobItem, chunk: int, partial: ImportReport) -> None:
    """Add a chunk's counts once (its number joins the set in the same conditional update)."""
    actions: list[Any] = [
        ImportJobItem.chunks_counted.add({chunk}),
        ImportJobItem.updated_at.set(clock.isoformat(clock.now())),
    ]
    for name, n in partial.counters.items():
        path = ImportJobItem.counts[name]
        actions.append(path.set((path | 0) + n))
    try:
        item.update(actions=actions, condition=~ImportJobItem.chunks_counted.contains(chunk))
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return  # counted by an earlier delivery of this chunk
        raise
    for kind in EXAMPLE_KINDS:
        _append_examples(item, kind, getattr(partial, f"{kind}_examples"))
    if item.chunks_total is not None and len(item.chunks_counted or ()) >= item.chunks_total:
        try:
            _finish(item)
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise


def _finish(item: ImportJobItem) -> None:
    item.update(
        actions=[
            ImportJobItem.status.set(DONE),
            ImportJobItem.updated_at.set(clock.isoformat(clock.now())),
        ],
        condition=ImportJobItem.status == PROCESSING,
    )
    _discard_file(item)  # every chunk is counted: nothing reads the file again
    logger.info("import done", extra={"import_id": item.sk})


def _discard_file(item: ImportJobItem) -> None:
    files.delete(item.object_key)


def look_for_person(tenant_id: str, person: list[str]) -> int:
    """Erasure: queue a look through every file still kept (its import waiting or running) for
    the erased person, given as keyed digests (profiles.traces) so no contact is on the queue in
    clear. One Query of the tenant's imports (30 days of them); returns how many were queued."""
    bind()
    now = int(clock.now().timestamp())
    looks = [
        ImportMessage(tenant_id=tenant_id, import_id=item.sk, step="forget", person=person)
        for item in ImportJobItem.query(_pk(tenant_id))
        if isinstance(item, ImportJobItem)
        and item.status in KEEPS_FILE
        and (item.expires_at is None or item.expires_at > now)
    ]
    if looks:
        _send(looks)
    return len(looks)


def forget_person(message: ImportMessage) -> None:
    """A file that names the erased person is deleted and its import ends `failed`, with why, so
    neither the file nor its chunks still to come bring the person back. A streaming read from
    `start`; a file too long for one invocation is looked through by the next message, which
    continues where this one stopped (FORGET_SECONDS each)."""
    from trigly.profiles import traces

    item = _load(message.tenant_id, message.import_id)
    if item.status not in KEEPS_FILE:
        return  # ended meanwhile: its file is gone
    try:
        chunks = files.read_blocks(item.object_key, READ_BLOCK, start=message.start)
    except files.NoFile:
        return  # nothing uploaded (yet)
    if message.layout is None:
        try:
            layout, found = open_stream(chunks, "jsonl" if item.format == "jsonl" else "csv")
        except ImportFileError:  # cannot be imported, nor shown not to name them
            return _stop_for_erasure(item)
    else:
        layout = _layout_of(message.layout, item.format)
        found = records(
            physical_lines(chunks),
            layout.format,
            first_line=message.first_line,
            offset=message.start,
        )
    country = tenancy.get_tenant_cached(message.tenant_id).default_country
    digests = set(message.person)
    deadline = time.monotonic() + FORGET_SECONDS
    for record in found:
        if traces.mentions(record_values(layout, record), digests, country):
            return _stop_for_erasure(item)
        if time.monotonic() > deadline:
            rest = {
                "start": record.offset + len(record.data),
                "first_line": record.line + record.data.count(b"\n"),
                "layout": _layout_json(layout),
            }
            _send([message.model_copy(update=rest)])
            return None
    return None


def _stop_for_erasure(item: ImportJobItem) -> None:
    _set_status(item, FAILED, error=STOPPED_BY_ERASURE)
    _discard_file(item)
    logger.info("import stopped by an erasure", extra={"import_id": item.sk})


def _layout_json(layout: Layout) -> dict[str, Any]:
    return {
        "format": layout.format,
        "encoding": layout.encoding,
        "delimiter": layout.delimiter,
        "header": list(layout.header),
    }


def _layout_of(fields: dict[str, Any], fmt: str) -> Layout:
    return Layout(
        format=fields.get("format", fmt),
        encoding=fields.get("encoding", "utf-8"),
        delimiter=fields.get("delimiter", ","),
        header=tuple(fields.get("header", ())),
    )


def _append_examples(item: ImportJobItem, kind: str, examples: list[dict[str, Any]]) -> None:
    """Best effort: examples join while the job holds fewer than MAX_EXAMPLES of the kind."""
    if not examples:
        return
    attribute = getattr(ImportJobItem, f"{kind}_examples")
    texts = [json.dumps(e, ensure_ascii=False) for e in examples]
    try:
        item.update(
            actions=[attribute.set((attribute | []).append(texts))],
            condition=attribute.does_not_exist() | (size(attribute) < MAX_EXAMPLES),  # type: ignore[no-untyped-call]
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
