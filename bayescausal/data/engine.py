"""Tables where they live, and the queries that reduce them to the sums a family needs.

Retail event and transaction tables outgrow memory long before they outgrow a GROUP BY, so a family never
reads raw rows from a file: it states its sufficient statistics as one Ibis expression, which Ibis compiles
for the engine that holds the rows (DuckDB by default: nothing to start, and it streams CSV and Parquet
larger than memory; Apache Spark; or any warehouse Ibis connects to by URL). Only the sums travel into
Python. Ibis was chosen over writing SQL through sqlglot because the expressions are checked against the
table's schema once and the connection, dialect and type mapping of each engine come with it.

Inputs: a CSV or Parquet file, a folder or glob of Parquet files (a partitioned dataset), a DuckDB database
file with `table`, or `url` + `table` for any engine (`[data] engine`, `url`, `table` in a spec).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayescausal.errors import DataError
from bayescausal.family import Progress, quiet
from bayescausal.result import Source

if TYPE_CHECKING:
    import ibis.expr.types as ir

ENGINES = ("duckdb", "spark")  # by name; any other Ibis backend is reached through `url`
CSV_TYPES = ["BOOLEAN", "BIGINT", "DOUBLE", "VARCHAR"]  # what DuckDB may guess a CSV column to be (no dates)
PARQUET, CSV, DATABASE = (".parquet", ".pq"), (".csv",), (".duckdb", ".ddb", ".db")
DECIMAL_DIGITS, SIGNIFICANT, MAX_SCALE = 38, 15, 12  # exact sums: 38-digit decimals, <= 15 significant digits
DUCKDB_MEMORY = "2GB"  # DuckDB spills beyond this; the families' arrays share the process ($BAYESCAUSAL_DUCKDB_MEMORY)
SPARK_LOCAL = "local[2]"  # Spark's master when neither [data] url nor $SPARK_MASTER names a cluster


@dataclass(frozen=True)
class Location:
    """Where a table lives: a file, folder or glob (`path`), a table in a database file or an engine (`table`),
    and the engine that reads it (`engine`, or the backend a connection `url` names)."""

    path: str | None = None
    table: str | None = None
    url: str | None = None
    engine: str = "duckdb"

    @classmethod
    def from_data(cls, data: dict) -> Location:
        return cls(data.get("path"), data.get("table"), data.get("url"), data.get("engine", "duckdb"))

    @property
    def engine_name(self) -> str:
        if self.url and self.engine != "spark":
            return self.url.split(":", 1)[0]
        return self.engine

    def describe(self) -> str:
        where = self.path or self.url or f"the {self.engine_name} catalog"
        return f"{where} table '{self.table}'" if self.table else where


@dataclass
class Scan:
    """A table where it lives and the queries run against it: what the report's provenance records."""

    table: ir.Table
    location: Location
    progress: Progress = quiet
    queries: list[str] = field(default_factory=list)
    seconds: float = 0.0
    rows: int = 0  # rows scanned, as the checks counted them (0 until a family's query has run)
    opened: ir.Table | None = None  # the table as opened: footers describe it, not a filtered or renamed one

    def __post_init__(self):
        if self.opened is None:
            self.opened = self.table

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.table.columns)

    def _start(self, expr: ir.Table, what: str) -> None:
        """Every query's SQL is recorded for provenance and said as it starts."""
        import ibis

        self.queries.append(str(ibis.to_sql(expr)))
        self.progress(f"{what}: querying {self.location.engine_name}")

    @contextmanager
    def _query(self, expr: ir.Table, what: str):
        """A query that returns at once: timed, with a heartbeat while it runs."""
        self._start(expr, what)
        t0 = time.perf_counter()
        try:
            with _heartbeat(expr, what, self.progress):
                yield
        finally:
            self.seconds += time.perf_counter() - t0

    def fetch(self, expr: ir.Table, what: str) -> pd.DataFrame:
        """Run one query in the engine and bring back its (small) result."""
        with self._query(expr, what):
            return expr.to_pandas()

    def column(self, expr: ir.Table, name: str, what: str) -> np.ndarray:
        """One column of a query's result as an array (no pandas objects: a million ids stay compact)."""
        with self._query(expr, what):
            return expr.to_pyarrow()[name].to_numpy()

    def batches(self, expr: ir.Table, what: str, *, size: int = 4_000_000):
        """A query's result streamed as dicts of arrays, `size` rows at a time, with progress per batch; only the
        engine's time is counted, not the caller's between batches."""
        self._start(expr, what)
        t0, done = time.perf_counter(), 0
        for batch in _record_batches(expr, size):
            done += batch.num_rows
            self.seconds += time.perf_counter() - t0
            yield {name: batch.column(name).to_numpy(zero_copy_only=False) for name in batch.schema.names}
            self.progress(f"{what}: {done:,} rows received")
            t0 = time.perf_counter()

    def one_row(self, expr: ir.Table, what: str) -> dict:
        return self.fetch(expr, what).iloc[0].to_dict()

    def source(self, fingerprint: str, *, rows: int, reduced: int) -> Source:
        """Provenance: where the rows are, the engine and every query it ran, the `rows` scanned (the family
        knows them from its counts), and the fingerprint of the `reduced` statistics (bayescausal.data.io: the
        same sums give the same fingerprint on any engine)."""
        self.progress(
            f"{rows:,} rows summed into {reduced:,} statistics in {self.seconds:.1f} s ({self.location.engine_name})"
        )
        return Source(
            self.location.describe(), fingerprint, rows, engine=self.location.engine_name, queries=tuple(self.queries)
        )


HEARTBEAT_SECONDS = 5.0


@contextmanager
def _heartbeat(expr: ir.Table, what: str, progress: Progress):
    """While a long query runs, say so every few seconds, with DuckDB's own estimate of how far it has got."""
    if progress is quiet:
        yield
        return
    done, t0 = threading.Event(), time.perf_counter()
    backend = expr._find_backend()
    share = getattr(getattr(backend, "con", None), "query_progress", None) if backend.name == "duckdb" else None

    def beat():
        while not done.wait(HEARTBEAT_SECONDS):
            percent = share() if share else -1
            known = f", {percent:.0f}% scanned" if percent is not None and percent >= 0 else ""
            progress(f"{what}: {time.perf_counter() - t0:.0f} s{known}")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _record_batches(expr: ir.Table, size: int):
    import ibis

    backend = expr._find_backend()
    if backend.name == "duckdb":  # Ibis 12 streams through a cursor method DuckDB 2 removed; DuckDB's own reader
        backend._run_pre_execute_hooks(expr)
        return backend.con.sql(str(ibis.to_sql(expr, dialect="duckdb"))).to_arrow_reader(size)
    return expr.to_pyarrow_batches(chunk_size=size)


def exact_sum(rows: int, engine: str = "duckdb"):
    """Sums that are exact, so the same on every engine, on every run, whatever order the rows are added in
    (float sums in a parallel GROUP BY are not). Each value is fixed to a number of decimal places (at most 15
    significant digits for values up to `bound`, leaving room for `rows`) and summed as an integer count of
    10^-scale units; the sum comes back as the double nearest to it (one correctly rounded conversion)."""
    return lambda value, bound: _fixed(value, rows, bound, engine)


def _fixed(value, rows: int, bound: float, engine: str):
    """Units by IEEE arithmetic (x * 10^s + 0.5, floored: the same on every engine; a decimal CAST of a double
    whose text ends in a 5 just past the scale goes up on one engine and down on another), summed as integers
    (DuckDB adds BIGINTs into a 128-bit sum, 3x faster than decimals; Spark's BIGINT sum would wrap, so it adds
    38-digit decimals), then rescaled by text: 'k' + 'e-s' parsed as a double is correctly rounded everywhere."""
    digits = int(np.floor(np.log10(max(bound, 1.0)))) + 1
    scale = min(MAX_SCALE, SIGNIFICANT - digits, DECIMAL_DIGITS - digits - len(str(max(rows, 1))))
    if scale < 2:  # values too large for fixed point (the boundary check stops far larger ones): float sums
        return value.sum()
    units = (value * 10.0**scale + 0.5).floor()
    total = units.sum() if engine == "duckdb" else units.cast(f"decimal({DECIMAL_DIGITS}, 0)").sum()
    return (total.cast("string") + f"e-{scale}").cast("float64")


def open_scan(location: Location, *, progress: Progress = quiet) -> Scan:
    """The table a location names, ready to query (nothing is read yet)."""
    progress(f"opening {location.describe()} with {location.engine_name}")
    if location.url and location.engine != "spark":
        table = _url_table(location)
    elif location.engine == "spark":
        table = _spark_table(location)
    elif location.engine == "duckdb":
        table = _duckdb_table(location)
    else:
        raise DataError(
            f"unknown engine '{location.engine}': use one of {', '.join(ENGINES)}, or give a connection url "
            "(e.g. postgres://user@host/db, bigquery://project) with a table"
        )
    return Scan(table, location, progress)


def _duckdb_table(location: Location) -> ir.Table:
    import ibis

    path = _existing(location.path)
    if path.suffix.lower() in DATABASE:
        if not location.table:
            raise DataError(f"{path} is a DuckDB database: name the table to read (--table NAME; [data] table)")
        con = ibis.duckdb.connect(str(path), read_only=True)
        return _named_table(con, location.table, str(path))
    con = _duckdb()
    return _read_files(con, path, location.path)


@cache
def _duckdb():
    import ibis

    con = ibis.duckdb.connect()
    import os

    con.raw_sql("SET preserve_insertion_order = false")  # group-bys need no order; keeps memory flat
    con.raw_sql(f"SET memory_limit = '{os.environ.get('BAYESCAUSAL_DUCKDB_MEMORY', DUCKDB_MEMORY)}'")
    return con


def _read_files(con, path: Path, given: str) -> ir.Table:
    """A CSV or Parquet file, a folder of Parquet files (hive partitions included) or a glob of either."""
    name = view_name(given)
    if path.is_dir():
        return con.read_parquet(f"{path}/**/*.parquet", hive_partitioning=True, table_name=name)
    suffix = path.suffix.lower()
    try:
        if suffix in PARQUET or (suffix == "" and "*" in given):
            return con.read_parquet(given, table_name=name)
        if suffix in CSV:  # column types from the whole file (a value far down never breaks a guessed type); dates
            # stay text, as pandas reads them: bayescausal.data.periods tells month-first from day-first or refuses
            return con.read_csv(
                given, sample_size=-1, nullstr=["", " "], auto_type_candidates=CSV_TYPES, table_name=name
            )
    except Exception as exc:  # the engine's own message is the useful part
        raise DataError(f"could not read {given}: {exc}") from exc
    raise DataError(f"cannot read {path.name}: use a .csv or .parquet file, a folder of Parquet files or a glob")


def view_name(given: str) -> str:
    """The name files are registered under: the same for the same path on every run, so the queries a report
    records are the same text too (Ibis would pick a random name), and distinct for distinct paths."""
    import hashlib

    return "rows_" + hashlib.sha256(str(Path(given).resolve()).encode()).hexdigest()[:12]


def _existing(given: str | None) -> Path:
    if not given:
        raise DataError("[data] needs a path (a CSV/Parquet file, a folder or glob of Parquet files, a .duckdb file)")
    path = Path(given)
    if "*" in given:
        import glob

        if not glob.glob(given, recursive=True):
            raise DataError(f"no files match {given} (check the pattern; it is relative to where you run the command)")
        return path
    if not path.exists():
        raise DataError(f"data file not found: {path} (check the path; it is relative to where you run the command)")
    return path


def _named_table(con, table: str, where: str) -> ir.Table:
    try:
        return con.table(table)
    except Exception as exc:
        names = ", ".join(sorted(con.list_tables())[:20])
        raise DataError(f"{where} has no table '{table}' (tables: {names or 'none'})") from exc


def _url_table(location: Location) -> ir.Table:
    import ibis

    if not location.table:
        raise DataError(f"a connection url needs the table to read: --table NAME ([data] table) for {location.url}")
    try:
        con = ibis.connect(location.url)
    except Exception as exc:
        raise DataError(
            f"could not connect to {location.url}: {exc} (is the engine's Ibis backend installed?)"
        ) from exc
    return _named_table(con, location.table, location.url)


def _spark_table(location: Location) -> ir.Table:
    import os

    import ibis

    con = ibis.pyspark.connect(spark_session(location.url or os.environ.get("SPARK_MASTER") or SPARK_LOCAL))
    if location.path is None:
        if not location.table:
            raise DataError("engine 'spark' needs a path (files Spark can read) or a table in its catalog")
        return _named_table(con, location.table, "the Spark catalog")
    path = _existing(location.path)
    try:
        if path.suffix.lower() in CSV:
            return con.read_csv(str(path), header=True, inferSchema=True, table_name=view_name(str(path)))
        return con.read_parquet(str(path), table_name=view_name(str(path)))
    except Exception as exc:
        raise DataError(f"Spark could not read {path}: {exc}") from exc


@cache
def spark_session(master: str):
    """One Spark session per process (starting one takes seconds). Needs Java: `make` installs a runtime."""
    import shutil

    if not shutil.which("java"):
        raise DataError(
            "engine 'spark' needs a Java runtime and none is on PATH: install one (Debian/Ubuntu: "
            "apt-get install openjdk-17-jre-headless; `make` does this for you) or set JAVA_HOME"
        )
    import signal

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("bayescausal")
    for key, value in {
        "spark.ui.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.ansi.enabled": "false",
    }.items():
        builder = builder.config(key, value)
    own = signal.getsignal(signal.SIGINT)
    session = builder.getOrCreate()
    signal.signal(signal.SIGINT, own)  # Spark installs its own Ctrl-C handler; bayescausal.interrupt owns Ctrl-C
    session.sparkContext.setLogLevel("ERROR")
    return session
