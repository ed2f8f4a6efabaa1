"""Record-level accounting with DuckDB: every landed NDJSON line against every Parquet row.

A record is identified by lineage, not by user data: (`_source_key`, `_line`). Records in are the
non-blank lines of the landed files (line numbers count blank lines, as the converter does);
records out are the Parquet rows; quarantined records are the lines the converter set aside with
a reason. Every record in must be out or quarantined exactly once: a duplicate is a (key, line)
seen more than once among both, missing is in but neither, unexpected is out but not in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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


def account(landed: dict[str, Path], outputs: dict[str, Path], output_manifest: dict[str, str],
            threads: int | None = None, quarantine: list[Path] | None = None,
            set_aside: set[str] | frozenset[str] = frozenset()) -> RecordAccount:
    """`landed`: source key -> local NDJSON; `outputs`: parquet key -> local file;
    `output_manifest`: parquet key -> the manifest id its name says it holds; `set_aside`: source
    keys whose converted content is no longer in the landing bucket (overwritten after their
    manifest), left out on both sides and counted in `set_aside_rows`."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.register("src_map", pa.table({"key": list(landed), "path": [str(p) for p in landed.values()]}))
    con.register(
        "out_map",
        pa.table({"path": [str(outputs[k]) for k in output_manifest], "mid": list(output_manifest.values())}),
    )
    con.execute("CREATE TABLE rin (key VARCHAR, line BIGINT)")
    if landed:
        con.execute(
            """
            INSERT INTO rin
            SELECT m.key, x.line
            FROM (
                SELECT filename, unnest(range(1, len(parts) + 1)) AS line, unnest(parts) AS text
                FROM (SELECT filename, string_split(content, chr(10)) AS parts FROM read_text(?))
            ) x JOIN src_map m ON m.path = x.filename
            WHERE trim(x.text, ' ' || chr(9) || chr(13)) <> ''
            """,
            [[str(p) for p in landed.values()]],
        )
    con.execute("CREATE TABLE rout (key VARCHAR, line BIGINT, mid VARCHAR, file_mid VARCHAR)")
    if outputs:
        con.execute(
            """
            INSERT INTO rout
            SELECT p._source_key, p._line, p._manifest_id, o.mid
            FROM read_parquet(?, filename = true) p JOIN out_map o ON o.path = p.filename
            """,
            [[str(outputs[k]) for k in output_manifest]],
        )
    con.execute("CREATE TABLE rq (key VARCHAR, line BIGINT)")
    if quarantine:
        con.execute(
            """
            INSERT INTO rq SELECT source_key, line FROM read_json(?, format = 'newline_delimited',
                columns = {'source_key': 'VARCHAR', 'line': 'BIGINT', 'reason': 'VARCHAR'})
            """,
            [[str(p) for p in quarantine]],
        )
    if set_aside:
        con.register("aside", pa.table({"key": sorted(set_aside)}))
        acc_aside = con.execute("SELECT count(*) FROM rout WHERE key IN (SELECT key FROM aside)").fetchone()[0]
        for table in ("rin", "rout", "rq"):
            con.execute(f"DELETE FROM {table} WHERE key IN (SELECT key FROM aside)")
    else:
        acc_aside = 0
    acc = RecordAccount(set_aside_rows=acc_aside)
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
