"""Record-level accounting with DuckDB: every landed NDJSON line against every Parquet row.

A record is identified by lineage, not by user data: (`_source_key`, `_line`). Records in are the
non-blank lines of the landed files (line numbers count blank lines, as the converter does);
records out are the Parquet rows; quarantined records are the lines the converter set aside with
a reason. Every record in must be out or quarantined exactly once: a duplicate is a (key, line)
seen more than once among both, missing is in but neither, unexpected is out but not in.
The record pass (`records.py`) gathers the three sets as Arrow tables; this joins them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

EXAMPLES = 5


@dataclass
class RecordAccount:
    records_in: int = 0
    records_out: int = 0
    quarantined: int = 0
    quarantined_files: list[str] = field(default_factory=list)
    duplicates: int = 0
    missing: int = 0
    unexpected: int = 0
    wrong_manifest: int = 0
    set_aside_rows: int = 0
    examples: dict = field(default_factory=dict)


def account(rin: pa.Table, rout: pa.Table, rq: pa.Table, set_aside: set[str] | frozenset[str] = frozenset(),
            threads: int | None = None) -> RecordAccount:
    """`rin`: (key, line) of every landed line; `rout`: (key, line, mid, file_mid) of every row,
    with the manifest id the row carries and the one its file's name says; `rq`: (key, line) of
    every quarantined line (line null for a whole file); `set_aside`: source keys whose converted
    content is no longer in the landing bucket (overwritten after their manifest), left out on
    every side and counted in `set_aside_rows`."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.register("rin_src", rin)
    con.register("rout_src", rout)
    con.register("rq_src", rq)
    con.register("aside", pa.table({"key": pa.array(sorted(set_aside), pa.string())}))
    acc = RecordAccount()
    acc.set_aside_rows = con.execute("SELECT count(*) FROM rout_src WHERE key IN (SELECT key FROM aside)").fetchone()[0]
    for name in ("rin", "rout", "rq"):
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_src WHERE key NOT IN (SELECT key FROM aside)")
    acc.records_in = con.execute("SELECT count(*) FROM rin").fetchone()[0]
    acc.records_out = con.execute("SELECT count(*) FROM rout").fetchone()[0]
    acc.quarantined = con.execute("SELECT count(*) FROM rq WHERE line IS NOT NULL").fetchone()[0]
    acc.quarantined_files = [k for (k,) in con.execute("SELECT DISTINCT key FROM rq WHERE line IS NULL ORDER BY 1").fetchall()]
    con.execute(
        """
        CREATE TABLE out_keys AS SELECT key, line, count(*) AS n FROM (
            SELECT key, line FROM rout UNION ALL SELECT key, line FROM rq WHERE line IS NOT NULL
        ) GROUP BY key, line
        """
    )
    acc.duplicates = con.execute("SELECT coalesce(sum(n - 1), 0) FROM out_keys WHERE n > 1").fetchone()[0]
    acc.missing = con.execute("SELECT count(*) FROM rin ANTI JOIN out_keys USING (key, line)").fetchone()[0]
    acc.unexpected = con.execute("SELECT count(*) FROM out_keys ANTI JOIN rin USING (key, line)").fetchone()[0]
    acc.wrong_manifest = con.execute("SELECT count(*) FROM rout WHERE mid IS DISTINCT FROM file_mid").fetchone()[0]

    def sample(sql: str) -> list[dict]:
        return [{"key": k, "line": n} for k, n in con.execute(sql + f" ORDER BY 1, 2 LIMIT {EXAMPLES}").fetchall()]

    if acc.duplicates:
        acc.examples["duplicates"] = sample("SELECT key, line FROM out_keys WHERE n > 1")
    if acc.missing:
        acc.examples["missing"] = sample("SELECT key, line FROM rin ANTI JOIN out_keys USING (key, line)")
    if acc.unexpected:
        acc.examples["unexpected"] = sample("SELECT key, line FROM out_keys ANTI JOIN rin USING (key, line)")
    con.close()
    return acc
