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
import pyarrow.compute as pc

from sim.validate.named import NAME, as_names

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
    every side and counted in `set_aside_rows`.

    Keys are joined as small integers (their place in the list of distinct keys): grouping and
    joining millions of (key, line) pairs on integers takes about half the time it takes on text."""
    keys, (rin, rout, rq) = _encoded([rin, rout, rq])
    aside_ids = pa.table({"k": pc.index_in(pa.array(sorted(set_aside), pa.string()), value_set=keys)})
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.register("rin_src", rin)
    con.register("rout_src", rout)
    con.register("rq_src", rq)
    con.register("aside", aside_ids)
    acc = RecordAccount()
    if set_aside:
        acc.set_aside_rows = con.execute("SELECT count(*) FROM rout_src WHERE k IN (SELECT k FROM aside)").fetchone()[0]
        for name in ("rin", "rout", "rq"):
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_src WHERE k NOT IN (SELECT k FROM aside)")
    else:
        for name in ("rin", "rout", "rq"):
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_src")
    acc.records_in = con.execute("SELECT count(*) FROM rin").fetchone()[0]
    acc.records_out = con.execute("SELECT count(*) FROM rout").fetchone()[0]
    acc.quarantined = con.execute("SELECT count(*) FROM rq WHERE line IS NOT NULL").fetchone()[0]
    whole = [k for (k,) in con.execute("SELECT DISTINCT k FROM rq WHERE line IS NULL").fetchall()]
    acc.quarantined_files = sorted(_names(keys, whole))
    con.execute(
        """
        CREATE TABLE out_keys AS SELECT k, line, count(*) AS n FROM (
            SELECT k, line FROM rout UNION ALL SELECT k, line FROM rq WHERE line IS NOT NULL
        ) GROUP BY k, line
        """
    )
    acc.duplicates = con.execute("SELECT coalesce(sum(n - 1), 0) FROM out_keys WHERE n > 1").fetchone()[0]
    acc.missing = con.execute("SELECT count(*) FROM rin ANTI JOIN out_keys USING (k, line)").fetchone()[0]
    acc.unexpected = con.execute("SELECT count(*) FROM out_keys ANTI JOIN rin USING (k, line)").fetchone()[0]
    acc.wrong_manifest = con.execute("SELECT count(*) FROM rout WHERE mid IS DISTINCT FROM file_mid").fetchone()[0]

    def sample(sql: str) -> list[dict]:
        found = con.execute(sql).fetchall()
        named = sorted(zip(_names(keys, [k for k, _ in found]), (n for _, n in found)))
        return [{"key": k, "line": n} for k, n in named[:EXAMPLES]]

    # The first examples by key name: the candidates are the first few of each key id's, enough
    # to hold the EXAMPLES smallest (key, line) pairs whatever order the ids are in.
    first = f"QUALIFY row_number() OVER (PARTITION BY k ORDER BY line) <= {EXAMPLES}"
    if acc.duplicates:
        acc.examples["duplicates"] = sample(f"SELECT k, line FROM out_keys WHERE n > 1 {first}")
    if acc.missing:
        acc.examples["missing"] = sample(f"SELECT k, line FROM rin ANTI JOIN out_keys USING (k, line) {first}")
    if acc.unexpected:
        acc.examples["unexpected"] = sample(f"SELECT k, line FROM out_keys ANTI JOIN rin USING (k, line) {first}")
    con.close()
    return acc


def _encoded(tables: list[pa.Table]) -> tuple[pa.Array, list[pa.Table]]:
    """The distinct keys of all the tables, and each table with its `key` column replaced by `k`,
    the key's place among them. Keys may come as text or dictionary-encoded (the record pass's
    results): one dictionary unified over every chunk gives each key its place without turning
    millions of names back into text."""
    parts = [as_names(t.column("key")) for t in tables]
    every = pa.chunked_array([c for part in parts for c in part.chunks], NAME).unify_dictionaries()
    keys = every.chunks[0].dictionary if every.num_chunks else pa.array([], pa.string())
    out, at = [], 0
    for t, part in zip(tables, parts):
        chunks = every.chunks[at:at + part.num_chunks]
        at += part.num_chunks
        ids = pa.chunked_array([c.indices for c in chunks], pa.int32())
        out.append(t.drop_columns(["key"]).add_column(0, "k", ids))
    return keys, out


def _names(keys: pa.Array, ids: list[int]) -> list[str]:
    return keys.take(pa.array(ids, pa.int32())).to_pylist() if ids else []
