"""Scale benchmark: sufficient statistics where the rows live.

For A/B event files of 1M / 10M / 100M rows (Parquet, written by DuckDB itself so the writer needs no
memory), prints the wall time and peak memory of

* `bayescausal ab analyze FILE --events` (the whole command: start-up, checks in the engine, the sums, the
  exact posterior and the report), and the same command on a 1,000-row file (its fixed cost);
* a bare DuckDB process computing the same per-arm sums from the file (the floor);
* the in-memory pandas path (read the file, then `aggregate_events`), where it fits;
* Spark local mode (`--engine spark`) at 10M rows,

with the ratio of each to the bare DuckDB query, and checks that the posterior means are exactly
(conversions + 1) / (users + 2) from the engine's counts. Also the DT-Mart-style order lines → weekly GMV.

    python benchmarks/scale.py [--quick] [--rows 1e6,1e7,1e8] [--spark-rows 1e7] [--dir /tmp/bayescausal-scale]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent

WRITE = """
COPY (
  SELECT i AS user,
         CASE WHEN hash(i) % 2 = 0 THEN 'control' ELSE 'treatment' END AS arm,
         CAST((hash(i * 7 + 1) % 10000) < (CASE WHEN hash(i) % 2 = 0 THEN 400 ELSE 430 END) AS TINYINT) AS converted
  FROM range({n}) t(i)
) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
"""
WITH_REVENUE = """
COPY (
  SELECT user, arm, converted,
         CASE WHEN converted = 1 THEN round(exp(3 + ((hash(user * 13) % 1000) / 1000.0 - 0.5) * 2), 2) ELSE 0 END
           AS revenue
  FROM read_parquet('{source}')
) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
"""
FLOOR = """
import duckdb, sys
con = duckdb.connect()
print(con.execute('''
SELECT arm, count(*), sum(converted), sum(revenue), sum(revenue * revenue), sum((revenue > 0)::BIGINT),
       sum(CASE WHEN revenue > 0 THEN ln(revenue) ELSE 0 END),
       sum(CASE WHEN revenue > 0 THEN ln(revenue) * ln(revenue) ELSE 0 END),
       sum((revenue > 0 AND converted = 0)::BIGINT)
FROM read_parquet('{path}') GROUP BY arm''').fetchall())
"""  # the sums the revenue model needs (these files have no refunds), as plain float sums: the floor
EXACT_FLOOR = """
import duckdb
con = duckdb.connect()
units = lambda x, s: f"sum(CAST(FLOOR(({{x}}) * 1e{{s}} + 0.5) AS BIGINT))"
log = "CASE WHEN revenue > 0 THEN ln(revenue) ELSE 0 END"
print(con.execute(f'''
SELECT arm, count(*), sum(converted), {{units("revenue", 12)}}, {{units("revenue * revenue", 11)}},
       sum((revenue > 0)::BIGINT), {{units(log, 12)}}, {{units(log + " * " + log, 10)}},
       sum((revenue > 0 AND converted = 0)::BIGINT)
FROM read_parquet('{path}') GROUP BY arm''').fetchall())
"""  # the same sums as exact integer units, as bayescausal adds them (bayescausal.data.engine.exact_sum)
PANDAS = """
import pandas as pd
from bayescausal.ab.data import aggregate_events
frame = pd.read_parquet('{path}')
print(aggregate_events(frame, revenue='revenue').to_dict('records'))
"""


def write_events(n: int, folder: Path, *, ids: bool) -> Path:
    """One row per user: arm, converted, revenue, and (`ids`) the user id, which adds the one-row-per-user check."""
    import duckdb

    path = folder / f"events_{n}{'' if ids else '_noid'}.parquet"
    if path.exists():
        return path
    con = duckdb.connect()
    if ids:
        raw = folder / f"raw_{n}.parquet"
        con.execute(WRITE.format(n=n, path=raw))
        con.execute(WITH_REVENUE.format(source=raw, path=path))
        raw.unlink()
    else:
        source = write_events(n, folder, ids=True)
        con.execute(f"COPY (SELECT arm, converted, revenue FROM read_parquet('{source}')) TO '{path}' (FORMAT parquet)")
    return path


def peak_of(argv: list[str]) -> tuple[float, float, str]:
    """Like `measure`, but the peak of this one child (GNU time's maximum resident set size)."""
    time_bin = "/usr/bin/time"  # Debian's `time` package; resource.getrusage cannot isolate one child
    t0 = time.perf_counter()
    done = subprocess.run(
        [time_bin, "-f", "%M", *argv], capture_output=True, text=True, env=os.environ | {"PYTHONWARNINGS": "ignore"}
    )
    wall = time.perf_counter() - t0
    if done.returncode not in (0, 6):
        raise RuntimeError(f"{argv[:3]} failed ({done.returncode}): {done.stderr[-2000:]}")
    kb = int(done.stderr.strip().splitlines()[-1])
    return wall, kb / 1e6, done.stdout


REPEAT = 3  # each A/B timing is the median of this many runs: a busy machine's noise is +-0.3 s on 4 s


def median_of(argv: list[str]) -> tuple[float, float, str]:
    runs = sorted((peak_of(argv) for _ in range(REPEAT)), key=lambda r: r[0])
    return runs[len(runs) // 2]


def analyze(path: Path, out: Path, engine: str = "duckdb") -> list[str]:
    argv = [str(BIN / "bayescausal"), "ab", "analyze", str(path), "--events", "--control", "control"]
    return argv + ["--engine", engine, "--out", str(out), "--json", "--force"]


def exact_means(summary: dict, path: Path) -> bool:
    import duckdb

    counts = (
        duckdb.connect()
        .execute(f"SELECT arm, count(*), sum(converted) FROM read_parquet('{path}') GROUP BY arm")
        .fetchall()
    )
    return all(summary["estimates"][f"rate_{arm}"]["mean"] == (c + 1) / (n + 2) for arm, n, c in counts)


def row(base: dict, floor: float, path_name: str, argv: list[str], source: Path) -> dict:
    """One measured command, beside the floor it is compared with."""
    wall, gb, out = median_of(argv)
    exact = exact_means(json.loads(out), source) if "--json" in argv else None
    measured = {"path": path_name, "wall (s)": round(wall, 2), "peak (GB)": round(gb, 2)}
    return base | measured | {"x floor": round(wall / floor, 1), "means exact": exact}


def ab_rows(sizes: list[int], spark_rows: int, folder: Path) -> pd.DataFrame:
    rows = []
    fixed, _, _ = median_of(analyze(write_events(1_000, folder, ids=False), folder / "report_small"))
    for n in sizes:
        path = write_events(n, folder, ids=False)
        floor, _, _ = median_of([sys.executable, "-c", FLOOR.format(path=path)])
        exact, _, _ = median_of([sys.executable, "-c", EXACT_FLOOR.format(path=path)])
        base = {
            "rows": f"{n:,}",
            "floor: float sums (s)": round(floor, 2),
            "limit (s)": round(fixed + 2 * floor, 2),
            "floor: exact sums (s)": round(exact, 2),
            "limit, exact (s)": round(fixed + 2 * exact, 2),
        }

        rows.append(row(base, floor, "bayescausal, duckdb", analyze(path, folder / f"report_{n}"), path))
        with_ids = write_events(n, folder, ids=True)
        rows.append(
            row(base, floor, "bayescausal, duckdb, user ids checked", analyze(with_ids, folder / f"ids_{n}"), with_ids)
        )
        if n <= 10_000_000:
            rows.append(
                row(base, floor, "pandas read + aggregate", [sys.executable, "-c", PANDAS.format(path=path)], path)
            )
        if n == spark_rows and shutil.which("java"):
            rows.append(
                row(base, floor, "bayescausal, spark local[2]", analyze(path, folder / f"spark_{n}", "spark"), path)
            )
    print(f"fixed cost (the same command on 1,000 rows): {fixed:.2f} s; limit = fixed + 2 x floor")
    return pd.DataFrame(rows)


LINES_PER_HOUSEHOLD, WEEKS, WINDOW, LIFT = 100, 104, (80, 85), 0.5  # the simulated campaign: +0.5 per line
TRANSACTIONS = """
COPY (
  SELECT (i // {per}) + 1 AS household_key,
         CAST(1 + hash(i * 3 + 1) % {weeks} AS INTEGER) AS week_no,
         CAST(hash(i * 11) % 50 AS INTEGER) AS product_id,
         round(2 + (hash(i * 7 + 5) % 1000) / 100.0
               + CASE WHEN hash((i // {per}) * 5 + 2) % 10 = 0
                       AND 1 + hash(i * 3 + 1) % {weeks} BETWEEN {lo} AND {hi} THEN {lift} ELSE 0 END, 2)
           AS sales_value,
         CASE WHEN hash(i * 13) % 20 = 0 THEN -0.5 ELSE 0 END AS coupon_disc
  FROM range({n}) t(i)
) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
"""
DID_FLOOR = """
import duckdb
con = duckdb.connect()
con.execute("SET memory_limit = '2GB'")
reader = con.sql("SELECT household_key, week_no, sum(sales_value) FROM read_parquet('{path}') GROUP BY ALL")
print(sum(b.num_rows for b in reader.to_arrow_reader(4_000_000)))
"""


DEMOGRAPHICS = """
COPY (
  SELECT ['25-34', '35-44', '45-54'][1 + CAST(hash(h) % 3 AS BIGINT)] AS AGE_DESC,
         ['A', 'B', 'U'][1 + CAST(hash(h + 1) % 3 AS BIGINT)] AS MARITAL_STATUS_CODE,
         ['35-49K', '50-74K'][1 + CAST(hash(h + 2) % 2 AS BIGINT)] AS INCOME_DESC,
         ['Homeowner', 'Renter'][1 + CAST(hash(h + 3) % 2 AS BIGINT)] AS HOMEOWNER_DESC, 'Unknown' AS HH_COMP_DESC,
         CAST(1 + hash(h + 4) % 4 AS VARCHAR) AS HOUSEHOLD_SIZE_DESC, 'None/Unknown' AS KID_CATEGORY_DESC,
         h AS household_key
  FROM range(1, {households} + 1) t(h)
) TO '{path}' (HEADER)
"""
ORDER_LINES = """
COPY (
  SELECT strftime(TIMESTAMP '2015-07-01' + INTERVAL (hash(i) % (365 * 86400)) SECOND, '%Y-%m-%d %H:%M:%S')
           AS order_date,
         round(100 + (hash(i * 7) % 100000) / 10.0, 2) AS gmv,
         ['CameraAccessory', 'GamingAccessory', 'EntertainmentSmall'][1 + CAST(hash(i * 3) % 3 AS BIGINT)]
           AS product_analytic_category,
         ['CameraAccessory', 'GamingAccessory', 'HomeAudio', 'Speaker'][1 + CAST(hash(i * 5) % 4 AS BIGINT)]
           AS product_analytic_sub_category
  FROM range({n}) t(i)
) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
"""
ORDER_FLOOR = """
import duckdb
con = duckdb.connect()
print(len(con.execute('''SELECT date_trunc('day', CAST(order_date AS TIMESTAMP)), product_analytic_category,
  product_analytic_sub_category, sum(gmv), count(*) FROM read_parquet('{path}') GROUP BY ALL''').fetchall()))
"""
MMM_AGGREGATE = (
    "from bayescausal.data.weekly import _order_weeks; from pathlib import Path; _order_weeks(Path('{path}'))"
)
BCF_AGGREGATE = (
    "from bayescausal.data.complete_journey import campaign_frame, load_complete_journey; "
    "print(len(campaign_frame(1, tables=load_complete_journey('{root}'))))"
)


def write_transactions(n: int, folder: Path) -> Path:
    """A Complete Journey style folder (the Kaggle layout, lines as Parquet): n lines over n/100 households and
    104 weeks; one household in ten receives campaign 1 (weeks 80-85), which adds 0.5 to each of its lines then.
    The true ATT per household-week is 0.5 x the mean lines per household-week (100 / 104)."""
    import duckdb

    root = folder / f"cj_{n}"
    lines = root / "transaction_data.parquet"
    if lines.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    lo, hi = WINDOW
    sql = TRANSACTIONS.format(n=n, per=LINES_PER_HOUSEHOLD, weeks=WEEKS, lo=lo, hi=hi, lift=LIFT, path=lines)
    con = duckdb.connect()
    con.execute(sql)
    con.execute(
        f"COPY (SELECT DISTINCT 'TypeA' AS DESCRIPTION, household_key, 1 AS CAMPAIGN FROM read_parquet('{lines}') "
        f"WHERE hash((household_key - 1) * 5 + 2) % 10 = 0) TO '{root / 'campaign_table.csv'}' (HEADER)"
    )
    pd.DataFrame(
        {"DESCRIPTION": ["TypeA"], "CAMPAIGN": [1], "START_DAY": [(lo - 1) * 7 + 1], "END_DAY": [hi * 7]}
    ).to_csv(root / "campaign_desc.csv", index=False)
    pd.DataFrame({"COUPON_UPC": [1, 2], "PRODUCT_ID": [3, 4], "CAMPAIGN": [1, 1]}).to_csv(
        root / "coupon.csv", index=False
    )
    pd.DataFrame({"household_key": [1], "DAY": [560], "COUPON_UPC": [1], "CAMPAIGN": [1]}).to_csv(
        root / "coupon_redempt.csv", index=False
    )
    pd.DataFrame({"PRODUCT_ID": range(50)}).to_csv(root / "product.csv", index=False)
    con.execute(DEMOGRAPHICS.format(households=n // LINES_PER_HOUSEHOLD, path=root / "hh_demographic.csv"))
    return root


def did_fit(root: Path, out: Path, engine: str = "duckdb") -> list[str]:
    argv = [str(BIN / "bayescausal"), "did", "fit", "--campaign", "1", "--cj-folder", str(root), "--mailer-cost", "0.5"]
    return argv + ["--margin", "0.3", "--engine", engine, "--out", str(out), "--json", "--force"]


def did_rows(sizes: list[int], spark_rows: int, folder: Path) -> pd.DataFrame:
    rows, truth = [], LIFT * LINES_PER_HOUSEHOLD / WEEKS
    for n in sizes:
        root = write_transactions(n, folder)
        floor, floor_gb, _ = peak_of([sys.executable, "-c", DID_FLOOR.format(path=root / "transaction_data.parquet")])
        engines = ["duckdb"] + (["spark"] if n == spark_rows and shutil.which("java") else [])
        for engine in engines:
            wall, gb, out = peak_of(did_fit(root, folder / f"did_{engine}_{n}", engine))
            att = json.loads(out)["estimates"]["att"]
            rows.append(
                {
                    "lines": f"{n:,}",
                    "households x weeks": f"{n // LINES_PER_HOUSEHOLD:,} x {WEEKS}",
                    "path": f"bayescausal did fit, {engine}",
                    "floor: duckdb group-by (s)": round(floor, 2),
                    "wall (s)": round(wall, 2),
                    "peak (GB)": round(gb, 2),
                    "x floor": round(wall / floor, 1),
                    "ATT mean (truth)": f"{att['mean']:.4f} ({truth:.4f})",
                    "within 3 sd": abs(att["mean"] - truth) <= 3 * att["sd"],
                }
            )
    return pd.DataFrame(rows)


def write_orders(n: int, folder: Path) -> Path:
    import duckdb

    path = folder / f"orders_{n}" / "ConsumerElectronics.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        duckdb.connect().execute(ORDER_LINES.format(n=n, path=path))
    return path


def aggregation_rows(sizes: list[int], folder: Path) -> pd.DataFrame:
    """The other two families' sums: DT-Mart order lines -> daily GMV per product line (the marketing mix's
    weekly table), and transaction lines -> the causal forests' household table (one row per customer)."""
    rows = []
    for n in sizes:
        orders, root = write_orders(n, folder), write_transactions(n, folder)
        cases = (
            ("mmm: order lines -> daily GMV", MMM_AGGREGATE.format(path=orders), ORDER_FLOOR.format(path=orders)),
            (
                "bcf: transaction lines -> household table",
                BCF_AGGREGATE.format(root=root),
                DID_FLOOR.format(path=root / "transaction_data.parquet"),
            ),
        )
        for name, code, floor_code in cases:
            floor, _, _ = peak_of([sys.executable, "-c", floor_code])
            wall, gb, _ = peak_of([sys.executable, "-c", code])
            rows.append(
                {
                    "lines": f"{n:,}",
                    "path": name,
                    "floor: duckdb group-by (s)": round(floor, 2),
                    "wall (s)": round(wall, 2),
                    "peak (GB)": round(gb, 2),
                    "x floor": round(wall / floor, 1),
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1M and 10M rows only")
    parser.add_argument("--rows", default=None, help="comma-separated row counts (default 1e6,1e7,1e8)")
    parser.add_argument("--spark-rows", type=float, default=1e7, help="the size Spark runs at (default 1e7)")
    parser.add_argument("--dir", default="/tmp/bayescausal-scale", help="where the generated files go")
    parser.add_argument(
        "--family", choices=["all", "ab", "did", "mmm-bcf"], default="all", help="which families to run"
    )
    args = parser.parse_args()
    sizes = [int(float(x)) for x in (args.rows or ("1e6,1e7" if args.quick else "1e6,1e7,1e8")).split(",")]
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        if args.family in ("all", "ab"):
            table = ab_rows(sizes, int(args.spark_rows), folder)
            print("\nA/B events -> per-arm sufficient statistics -> exact posterior and report")
            print(table.to_string(index=False))
        if args.family in ("all", "did"):
            table = did_rows(sizes, int(args.spark_rows), folder)
            print("\nTransaction lines -> household x week sums -> campaign DiD posterior, checks and report")
            print(table.to_string(index=False))
        if args.family in ("all", "mmm-bcf"):
            table = aggregation_rows(sizes, folder)
            print("\nMarketing mix and causal forests: the sums each needs, from the lines (the fits are not timed)")
            print(table.to_string(index=False))


if __name__ == "__main__":
    main()
