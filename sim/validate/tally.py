"""Counting two multisets of record digests with DuckDB: how many copies of each landed record
came out, and which landed records and which rows are left without an equal on the other side.

For each digest, `n_in` landed copies (quarantined lines taken out) and `n_out` rows:
- both sides hold it: the surplus `n_out - n_in` is duplicated, the deficit `n_in - n_out` copies
  have no equal row;
- only landed: all `n_in` copies have no equal row;
- only out: all `n_out` rows match no landed record.
Landed copies and rows left without an equal are what `pairing.py` may pair as altered records;
whatever it does not pair is missing (landed) or unexpected (out).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from sim.validate.named import NAME

EXAMPLES = 5
# Keys and file names repeat for every record: dictionary-encoded (named.NAME), a record costs 28 bytes here.
LANDED = pa.schema([("h", pa.binary(16)), ("key", NAME), ("line", pa.int64())])
ROWS = pa.schema([("h", pa.binary(16)), ("file", NAME), ("row", pa.int64())])


NAMED_LINES = pa.schema([("key", NAME), ("line", pa.int64())])  # landed lines that are no record
LINES = pa.schema([("key", pa.string()), ("line", pa.int64())])


@dataclass
class Tally:
    records_in: int = 0  # landed records (JSON objects) not quarantined
    records_out: int = 0
    quarantined_records: int = 0  # landed records that are quarantined lines
    duplicated: int = 0
    duplicated_examples: list[dict] = field(default_factory=list)
    unmatched_in: pa.Table = None  # h, key, line: landed copies without an equal row
    unmatched_out: pa.Table = None  # h, file, row: rows without an equal landed record
    unmatched_in_total: int = 0  # all of them, when the tables were cut at a limit
    unmatched_out_total: int = 0


def tally(landed: pa.Table, rows: pa.Table, quarantined: pa.Table, limit: int | None = None,
          threads: int | None = None) -> Tally:
    """`quarantined`: (key, line) of quarantined lines. `limit`: at most this many unmatched
    copies of each side are listed (all are counted)."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.register("landed_src", landed)
    con.register("rows_src", rows)
    con.register("quarantined", quarantined)
    t = Tally()
    if quarantined.num_rows:
        con.execute("""CREATE TABLE landed AS SELECT l.* FROM landed_src l
                       ANTI JOIN (SELECT DISTINCT key, line FROM quarantined WHERE line IS NOT NULL) q USING (key, line)""")
        t.quarantined_records = landed.num_rows - con.execute("SELECT count(*) FROM landed").fetchone()[0]
    else:  # nothing to take out: no copy of millions of rows
        con.execute("CREATE VIEW landed AS SELECT * FROM landed_src")
    t.records_in = landed.num_rows - t.quarantined_records
    t.records_out = rows.num_rows
    # Copies of each digest on both sides in one aggregation (not one per side and a join)
    con.execute("""CREATE TABLE counts AS SELECT h, sum(i)::BIGINT AS n_in, sum(o)::BIGINT AS n_out
                   FROM (SELECT h, 1 AS i, 0 AS o FROM landed UNION ALL SELECT h, 0 AS i, 1 AS o FROM rows_src)
                   GROUP BY h HAVING sum(i) <> sum(o)""")
    t.duplicated = con.execute(
        "SELECT coalesce(sum(n_out - n_in), 0) FROM counts WHERE n_in > 0 AND n_out > n_in").fetchone()[0]
    if t.duplicated:
        t.duplicated_examples = [
            {"key": k, "line": n, "copies_in": int(i), "copies_out": int(o)} for k, n, i, o in con.execute(f"""
                SELECT f.key, f.line, c.n_in, c.n_out FROM (
                    SELECT h, key, line, row_number() OVER (PARTITION BY h ORDER BY key, line) AS copy FROM landed
                    WHERE h IN (SELECT h FROM counts WHERE n_in > 0 AND n_out > n_in)) f
                JOIN counts c USING (h) WHERE f.copy = 1 ORDER BY f.key, f.line LIMIT {EXAMPLES}""").fetchall()]
    cap = f"LIMIT {int(limit)}" if limit is not None else ""
    # Landed copies beyond the rows that equal them: the last copies by (key, line) are the ones
    # without an equal row (which copies does not matter: they are the same record).
    t.unmatched_in = con.execute(f"""
        SELECT h, key, line FROM (
            SELECT l.h, l.key, l.line, c.n_out,
                   row_number() OVER (PARTITION BY l.h ORDER BY l.key, l.line) AS copy
            FROM landed l JOIN counts c USING (h) WHERE c.n_in > c.n_out)
        WHERE copy > n_out ORDER BY key, line {cap}""").fetch_arrow_table()
    t.unmatched_in_total = con.execute(
        "SELECT coalesce(sum(n_in - n_out), 0) FROM counts WHERE n_in > n_out").fetchone()[0]
    t.unmatched_out = con.execute(f"""
        SELECT r.h, r.file, r.row FROM rows_src r JOIN counts c USING (h) WHERE c.n_in = 0
        ORDER BY r.file, r.row {cap}""").fetch_arrow_table()
    t.unmatched_out_total = con.execute("SELECT coalesce(sum(n_out), 0) FROM counts WHERE n_in = 0").fetchone()[0]
    con.close()
    return t


def first_lines(lines: pa.Table, quarantined: pa.Table | None = None, n: int = EXAMPLES) -> tuple[int, list[dict]]:
    """How many (key, line) of `lines` there are -- those not among the quarantined lines, when
    `quarantined` is given -- and the first `n` by key and line."""
    con = duckdb.connect()
    con.register("lines", lines)
    source = "lines"
    if quarantined is not None:
        con.register("quarantined", quarantined)
        source = """(SELECT l.* FROM lines l ANTI JOIN (SELECT DISTINCT key, line FROM quarantined
                     WHERE line IS NOT NULL) q USING (key, line))"""
    count = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
    first = [{"key": k, "line": line} for k, line in
             con.execute(f"SELECT key, line FROM {source} ORDER BY key, line LIMIT {int(n)}").fetchall()]
    con.close()
    return count, first
