"""The analytics view in DuckDB: `open_view(tenant)` gives a connection whose views `customers`,
`cars`, `model_views`, `visits`, `purchases` and `messages` (analytics.schema) show the tenant's
live rows: the Parquet snapshot plus the change files not folded into it yet, the newest version
of each customer winning, erased customers absent (ADR 0022).

Files come from S3 with boto3 into a per-container cache in /tmp, by key (snapshot and change
files are immutable), and DuckDB reads local paths: no extension beyond the built-in Parquet and
JSON readers is loaded or fetched. `view_from_rows` builds the same views over rows given in a
test, with the same SQL.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from trigly.analytics import files
from trigly.analytics.schema import TABLES, Table

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CACHE_DIR = Path(os.environ.get("TRIGLY_ANALYTICS_CACHE", tempfile.gettempdir())) / "trigly-view"
FETCH_THREADS = 8
# A file the manifest named may be deleted by a compaction finishing meanwhile: read them again.
OPEN_ATTEMPTS = 3
EMPTY_VERSION = "0" * 26  # rows given without a version (tests) are older than any real one
CACHE_KEEP = timedelta(minutes=30)


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that never downloads an extension (Lambda fetches no code)."""
    return duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _columns(table: Table) -> str:
    return ", ".join(f'"{c.name}"' for c in table.columns)


def _struct(table: Table) -> str:
    """The table's columns as json_transform's structure (JSON text)."""
    return json.dumps({c.name: c.sql_type for c in table.columns})


def _empty(table: Table) -> str:
    casts = ", ".join(f'CAST(NULL AS {c.sql_type}) AS "{c.name}"' for c in table.columns)
    return f"SELECT {casts} WHERE false"


def _snapshot_source(table: Table, path: Path | None) -> str:
    if path is None:
        return _empty(table)
    return f"SELECT {_columns(table)} FROM read_parquet({_quote(str(path))})"


def _changes_raw(paths: Sequence[Path]) -> str:
    """Every change line as (table, row JSON): parsed once, split by table after."""
    if not paths:
        return 'SELECT CAST(NULL AS VARCHAR) AS "table", CAST(NULL AS JSON) AS "row" WHERE false'
    listed = "[" + ", ".join(_quote(str(p)) for p in paths) + "]"
    return (
        f'SELECT "table", "row" FROM read_json({listed}, format=\'newline_delimited\', '
        "compression='gzip', columns={'table': 'VARCHAR', 'row': 'JSON'})"
    )


def _changes_source(table: Table) -> str:
    return (
        f'SELECT unnest(json_transform("row", {_quote(_struct(table))})) '
        f'FROM _chg_raw WHERE "table" = {_quote(table.name)}'
    )


@contextmanager
def _joined(paths: Sequence[Path]) -> Iterator[Sequence[Path]]:
    """Gzip members concatenated are one valid gzip file: many change files as one."""
    if len(paths) <= 1:
        yield paths
        return
    with tempfile.NamedTemporaryFile(suffix=files.CHANGES_SUFFIX) as joined:
        for path in paths:
            with path.open("rb") as part:
                shutil.copyfileobj(part, joined)
        joined.flush()
        yield [Path(joined.name)]


def build_views(
    con: duckdb.DuckDBPyConnection,
    snapshot: Mapping[str, Path],
    changes: Sequence[Path],
    tombstones: Mapping[str, str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """The six views over local files: `snapshot` table → Parquet (one per table, absent: no
    rows), `changes` the NDJSON.gz change files, `tombstones` customer → erasure version."""
    tombstones = dict(tombstones or {})
    # Change rows are few and every query reads them: parsed once, kept in memory; many small
    # files are joined into one first (DuckDB pays ~7 ms a file, gzip's join none).
    with _joined(changes) as paths:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _chg_raw AS {_changes_raw(paths)}")
    for table in TABLES:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW _snap_{table.name} AS "
            f"{_snapshot_source(table, snapshot.get(table.name))}"
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE _chg_{table.name} AS {_changes_source(table)}")
    con.execute("DROP TABLE _chg_raw")
    con.execute("CREATE OR REPLACE TEMP TABLE _tomb (customer_id VARCHAR, version VARCHAR)")
    if tombstones:
        con.executemany("INSERT INTO _tomb VALUES (?, ?)", sorted(tombstones.items()))
    # The customers whose newest version is not the snapshot's: a change file's or an erasure's.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _override AS
        WITH candidates AS (
            SELECT customer_id, version, coalesce(erased, false) AS erased FROM _chg_customers
            UNION ALL
            SELECT customer_id, version, true FROM _tomb
        ), newest AS (
            SELECT customer_id, max(version) AS version, arg_max(erased, version) AS erased
            FROM candidates GROUP BY customer_id
        )
        SELECT n.customer_id, n.version, n.erased
        FROM newest n LEFT JOIN _snap_customers s ON s.customer_id = n.customer_id
        WHERE s.version IS NULL OR n.version > s.version
        """
    )
    pending = con.execute("SELECT count(*) FROM _override").fetchone()
    overridden = bool(pending and pending[0])
    for table in TABLES:
        columns = _columns(table)
        live = " WHERE NOT coalesce(erased, false)" if table.name == "customers" else ""
        if not overridden:
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {table.name} AS "
                f"SELECT {columns} FROM _snap_{table.name}{live}"
            )
            continue
        prefixed = ", ".join(f'c."{c.name}"' for c in table.columns)
        snap_filter = " AND NOT coalesce(s.erased, false)" if live else ""
        con.execute(
            f"""
            CREATE OR REPLACE TEMP VIEW {table.name} AS
            SELECT {columns} FROM _snap_{table.name} s
            WHERE NOT EXISTS (SELECT 1 FROM _override o WHERE o.customer_id = s.customer_id)
            {snap_filter}
            UNION ALL
            SELECT {prefixed} FROM _chg_{table.name} c
            JOIN _override o ON o.customer_id = c.customer_id AND o.version = c.version
            WHERE NOT o.erased
            """
        )
    return con


def erased_since_snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Customers the views hide because their newest version is an erasure (compaction keeps
    them as the manifest's tombstones)."""
    rows = con.execute("SELECT customer_id, version FROM _override WHERE erased").fetchall()
    return {str(customer): str(version) for customer, version in rows}


# ---------------------------------------------------------------- from S3


def _local_path(bucket: str, key: str) -> Path:
    digest = hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()[:32]
    suffix = ".parquet" if key.endswith(".parquet") else files.CHANGES_SUFFIX
    return CACHE_DIR / f"{digest}{suffix}"


def _prune(keep: set[Path]) -> None:
    """Forget cached files nobody read for CACHE_KEEP (folded changes, replaced snapshots):
    /tmp is 512 MB by default."""
    cutoff = time.time() - CACHE_KEEP.total_seconds()
    for path in CACHE_DIR.iterdir():
        try:
            if path not in keep and path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:  # another thread pruned it
            continue


def keep_in_cache(bucket: str, key: str, path: Path) -> None:
    """A file this container wrote itself, cached as if downloaded (it is immutable)."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    shutil.move(path, _local_path(bucket, key))


def fetch(s3: S3Client, bucket: str, keys: Iterable[str]) -> dict[str, Path]:
    """Local copies of immutable files (downloaded once per container); raises NoSuchKey."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    wanted = {key: _local_path(bucket, key) for key in keys}
    missing = [key for key, path in wanted.items() if not path.exists()]
    for key, path in wanted.items():
        if key not in missing:
            path.touch()  # in use: kept by `_prune`
    _prune(set(wanted.values()))

    def download(key: str) -> None:
        path = wanted[key]
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        partial = path.with_name(f"{path.name}.{os.getpid()}.{time.monotonic_ns()}.part")
        partial.write_bytes(body)
        partial.replace(path)

    if len(missing) == 1:
        download(missing[0])
    elif missing:
        with ThreadPoolExecutor(max_workers=FETCH_THREADS) as pool:
            list(pool.map(download, missing))
    return wanted


def local_files(
    s3: S3Client, bucket: str, tenant_id: str
) -> tuple[files.Manifest, dict[str, Path], list[Path], list[str]]:
    """The manifest, local snapshot and change files of a tenant, and the change keys read.
    Changes are listed before the manifest is read: a compaction finishing in between then shows
    its new manifest, whose `folded` names every listed file it took (never counted twice)."""
    listed = files.change_files(s3, bucket, tenant_id)
    manifest = files.read_manifest(s3, bucket, tenant_id)
    folded = set(manifest.folded)
    pending = [key for key in listed if key not in folded]
    paths = fetch(s3, bucket, [*manifest.snapshot.values(), *pending])
    snapshot = {table: paths[key] for table, key in manifest.snapshot.items()}
    return manifest, snapshot, [paths[key] for key in pending], pending


def open_view(
    tenant_id: str, *, s3: S3Client | None = None, bucket: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection with the tenant's live analytics views (see the module's docstring).
    `s3` and `bucket` default to the function's own (tests of the local stack pass theirs)."""
    from trigly.platform import aws, clock
    from trigly.platform.settings import get_settings

    s3 = s3 or aws.s3()
    bucket = bucket or get_settings().archive_bucket
    for attempt in range(OPEN_ATTEMPTS):
        try:
            manifest, snapshot, changes, _ = local_files(s3, bucket, tenant_id)
            break
        except s3.exceptions.NoSuchKey:
            if attempt == OPEN_ATTEMPTS - 1:
                raise
    return build_views(connect(), snapshot, changes, manifest.live_tombstones(clock.now()))


# ---------------------------------------------------------------- for tests


def view_from_rows(
    rows_by_table: Mapping[str, Iterable[Mapping[str, Any]]],
    directory: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """The same views over rows given in Python (e.g. synthetic customers for segment SQL).

    Each row is a dict of the table's columns (analytics.schema); missing columns are NULL, a
    missing `version` is older than any real one, and a customer with rows but no `customers`
    row gets one. Dates and timestamps may be `date`/`datetime` or ISO text. The rows are
    written as one change file, so they pass through the reader's own SQL.
    """
    from trigly.analytics.rows import json_row

    known = {t.name for t in TABLES}
    unknown = set(rows_by_table) - known
    if unknown:
        raise ValueError(f"unknown analytics tables: {sorted(unknown)}")
    given: dict[str, list[dict[str, Any]]] = {
        name: [{"version": EMPTY_VERSION, **row} for row in rows]
        for name, rows in rows_by_table.items()
    }
    customers = given.setdefault("customers", [])
    have = {row["customer_id"] for row in customers}
    versions: dict[str, str] = {}
    for rows in given.values():
        for row in rows:
            versions[row["customer_id"]] = max(versions.get(row["customer_id"], ""), row["version"])
    customers.extend(
        {"customer_id": c, "version": v} for c, v in sorted(versions.items()) if c not in have
    )
    folder = directory or Path(tempfile.mkdtemp(prefix="trigly-view-rows-"))
    path = folder / f"rows{files.CHANGES_SUFFIX}"
    path.write_bytes(
        files.change_body(
            {t.name: [json_row(t, row) for row in given.get(t.name, [])] for t in TABLES}
        )
    )
    return build_views(connect(), {}, [path])
