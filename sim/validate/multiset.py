"""Validation without lineage: the landed records and the output rows compared as multisets.

For any pipeline, whatever its converter writes beside a record's own fields: every landed record
(each non-blank line of every landing object that is a JSON object) must be in the output exactly
as many times as it was landed, with its values. Both sides are brought to one canonical text per
record (canonical.py for landed lines, rowtext.py for Parquet rows: parsed, keys sorted, absent and
null one, numbers by value, ignored columns dropped, JSON text columns parsed back, renamed fields
named back), hashed to 128 bits (digest.py) and counted with DuckDB (tally.py). What is left
unmatched on both sides is read again and paired where the pairing is sound (pairing.py): those
are altered records, with the JSON Pointer of the first difference. Reports name the landed key
and line, or the output object and row, never a value.

The hashing pass runs in worker processes (hashing.py); the unmatched are read again and paired
in unmatched.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

from sim.pipeline.events import is_landing_key
from sim.validate import hashing, quarantine, unmatched
from sim.validate.multiset_options import Options
from sim.validate.tally import LANDED, NAMED_LINES, ROWS, first_lines, tally

EXAMPLES = 5
PAIR_LIMIT = 20_000  # unmatched records of each side read again for pairing


@dataclass
class Hashed:
    """Digests already made (by the lineage pass of sim's own pipeline, records.py), one
    hashing.Result per landed key or output named by its `name`: what they cover is not read again."""

    results: list[hashing.Result] = field(default_factory=list)
    # name -> the ETag of what was hashed, for digests made before the run ended
    # (sim/validate/early_hashing.py): they cover an object only while it is unchanged.
    etags: dict[str, str] = field(default_factory=dict)
    seconds_waiting: float = 0.0  # for the last of those digests once the run ended

    def covers(self, listed: dict[str, int], etags: dict[str, str] | None = None) -> set[str]:
        return {r.name for r in self.results if r.name in listed
                and (r.name not in self.etags or (etags or {}).get(r.name) == self.etags[r.name])}


def check(target, options: Options, on_step: Callable[[str], None] | None = None,
          hashed: Hashed | None = None) -> dict:
    """The multiset check of what `target` holds now; a dict in the validation's --json shape.
    `hashed`: digests made already, of keys and outputs listed now (any other is left out)."""
    started = time.monotonic()
    step = on_step or (lambda _m: None)
    s3 = target.client("s3", max_pool=8)
    landed_objects = [o for o in _list(s3, options.landing_bucket, "") if wanted_landed(options, o["Key"])]
    output_objects = [o for o in _list(s3, options.output_bucket, options.output_prefix) if o["Key"].endswith(".parquet")]
    landed = {o["Key"]: o["Size"] for o in landed_objects}
    outputs = {o["Key"]: o["Size"] for o in output_objects}
    etags = {o["Key"]: o["ETag"].strip('"') for o in landed_objects + output_objects}
    q_keys = quarantine.list_objects(s3, options.output_bucket, options.quarantine_prefix) \
        if options.quarantine_prefix else []
    hashed = hashed or Hashed()
    done_landed, done_outputs = hashed.covers(landed, etags), hashed.covers(outputs, etags)
    units = hashing.plan(s3, options, {k: n for k, n in landed.items() if k not in done_landed},
                         {k: n for k, n in outputs.items() if k not in done_outputs})
    step(f"hashing {len(landed) - len(done_landed)} landed files and {len(outputs) - len(done_outputs)} Parquet files"
         + (f" ({len(done_landed)} and {len(done_outputs)} hashed already)" if hashed.results else ""))
    t0 = time.monotonic()
    results = hashing.run(units, (target.name, target.endpoint, target.region), options) if units else []
    results += [r for r in hashed.results
                if r.name in (done_landed if hashing.is_landed(r) else done_outputs)]
    hashing_s = time.monotonic() - t0
    quarantined = quarantine.read_lines(s3, options.output_bucket, q_keys) if q_keys else \
        pa.table({"key": pa.array([], pa.string()), "line": pa.array([], pa.int64())})
    step("counting records with DuckDB")
    t0 = time.monotonic()
    landed_t = hashing.concat([r.table for r in results if hashing.is_landed(r)], LANDED)
    rows_t = hashing.concat([r.table for r in results if not hashing.is_landed(r)], ROWS)
    counted = tally(landed_t, rows_t, quarantined, limit=PAIR_LIMIT)
    count_s = time.monotonic() - t0
    t0 = time.monotonic()
    altered_examples, pairs = [], []
    if counted.unmatched_in.num_rows and counted.unmatched_out.num_rows:
        step("pairing unmatched records")
        pairs, altered_examples = unmatched.pair_unmatched(s3, options, counted)
    pairing_s = time.monotonic() - t0
    doc = _report(options, results, counted, quarantined, pairs, altered_examples, len(landed), len(outputs),
                  len(q_keys))
    doc["hashed_already"] = {"landed": len(done_landed), "outputs": len(done_outputs)}
    doc["seconds"] = {"total": round(time.monotonic() - started, 3), "hashing": round(hashing_s, 3),
                      "counting": round(count_s, 3), "pairing": round(pairing_s, 3),
                      # summed over the workers: where the hashing time goes
                      "landed_units": round(sum(r.seconds for r in results if hashing.is_landed(r)), 3),
                      "output_units": round(sum(r.seconds for r in results if not hashing.is_landed(r)), 3)}
    return doc


def _report(options, results, counted, quarantined, pairs, altered_examples, n_landed, n_outputs, n_q) -> dict:
    not_records = hashing.concat([t for r in results for t in r.not_records], NAMED_LINES)
    unread = hashing.concat([t for r in results for t in r.unread], NAMED_LINES)
    lines = sum(r.lines for r in results)
    altered = len(pairs)
    paired_in = {i for i, _ in pairs}
    paired_out = {j for _, j in pairs}
    missing = counted.unmatched_in_total - altered
    unexpected = counted.unmatched_out_total - altered
    ui, uo = counted.unmatched_in, counted.unmatched_out
    in_keys, in_lines = ui.column("key").to_pylist(), ui.column("line").to_pylist()
    out_keys, out_rows = uo.column("file").to_pylist(), uo.column("row").to_pylist()
    examples: dict = {}
    if missing:
        examples["missing"] = [{"key": in_keys[i], "line": in_lines[i]} for i in range(len(in_keys))
                               if i not in paired_in][:EXAMPLES]
    if counted.duplicated:
        examples["duplicated"] = counted.duplicated_examples
    if unexpected:
        examples["unexpected"] = [{"output": out_keys[j], "row": out_rows[j]} for j in range(len(out_keys))
                                  if j not in paired_out][:EXAMPLES]
    if altered:
        examples["altered"] = altered_examples[:EXAMPLES]
    if not_records.num_rows:
        examples["not_records"] = first_lines(not_records)[1]
    unaccounted = 0
    if options.quarantine_prefix and (not_records.num_rows or unread.num_rows):
        unaccounted, first = first_lines(hashing.concat([not_records, unread], NAMED_LINES), quarantined)
        if unaccounted:
            examples["not_quarantined"] = first
    problems = []
    for label, n in (("missing", missing), ("duplicated", counted.duplicated), ("altered", altered),
                     ("unexpected", unexpected)):
        if n:
            problems.append(f"{label} records: {n}")
    if unaccounted:
        problems.append(f"landed lines that are no record and are not quarantined: {unaccounted}")
    unreadable = sorted(set(x for r in results for x in r.unreadable))
    if unreadable:
        problems.append(f"outputs that cannot be read as Parquet: {len(unreadable)} (e.g. {unreadable[0]})")
    counted_q = pc.and_(pc.is_valid(quarantined.column("line")),
                        pc.invert(pc.is_in(quarantined.column("key"),
                                           value_set=pa.array(sorted(options.set_aside_keys), pa.string()))))
    quarantined_lines = pc.sum(counted_q.cast(pa.int64())).as_py() or 0
    return {
        "pass": not problems,
        "records_in": lines,
        "records_out": counted.records_out,
        "quarantined": quarantined_lines,
        "missing": missing,
        "duplicated": counted.duplicated,
        "altered": altered,
        "unexpected": unexpected,
        "not_records": not_records.num_rows,
        "lines_unread": unread.num_rows,
        "records_compared": counted.records_in,
        "records_quarantined": counted.quarantined_records,
        "problems": problems,
        "examples": examples,
        "pairing": {"rule": "an identifying leaf shared only by the two, and at least half the leaves of the larger",
                    "examined_in": ui.num_rows, "examined_out": uo.num_rows, "limit": PAIR_LIMIT,
                    "complete": ui.num_rows == counted.unmatched_in_total
                    and uo.num_rows == counted.unmatched_out_total},
        "files_landed": n_landed,
        "outputs": n_outputs,
        "quarantine_objects": n_q,
        "set_aside_files": len(options.set_aside_keys),
        "set_aside_rows": sum(r.set_aside_rows for r in results),
        "landed_gone": sum(len(r.gone) for r in results),
        "outputs_unreadable": len(set(x.split(": ", 1)[0] for r in results for x in r.unreadable)),
        "bytes_landed_read": sum(r.bytes for r in results if hashing.is_landed(r)),
        "workers": options.workers,
        "parameters": {"landing_bucket": options.landing_bucket, "output_bucket": options.output_bucket,
                       "output_prefix": options.output_prefix, "ignore_columns": list(options.ignore_columns),
                       "json_text_columns": list(options.json_text_columns),
                       "quarantine_prefix": options.quarantine_prefix},
    }


def wanted_landed(options: Options, key: str) -> bool:
    """A landing object the check counts: a landing key, neither set aside nor the pipeline's own."""
    return is_landing_key(key) and key not in options.set_aside_keys and not _pipelines_own(options, key)


def _pipelines_own(options: Options, key: str) -> bool:
    """A key the pipeline wrote itself, when it writes into the landing bucket (a quarantine
    object ends in `.jsonl` like a landed file)."""
    if options.landing_bucket != options.output_bucket:
        return False
    return any(p and key.startswith(p) for p in (options.output_prefix, options.quarantine_prefix))


def _list(s3, bucket: str, prefix: str) -> list[dict]:
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.extend(page.get("Contents", []))
    return out
