"""bad-input: every kind of bad landing input has a defined outcome; nothing but bad lines is lost.

Each input below is landed through the real wiring and its outcome checked one by one: converted
rows (by lineage), quarantine entries (key, line, reason), keys ignored and counted, messages
ignored or dead-lettered, an overwritten key's documented semantics, the alarms on quarantined
lines, quarantined files and overwritten keys, and a validation that accounts for every line.
"""

import gzip
import io
import json
import time
import zlib

import pyarrow.parquet as pq

NAME = "bad-input"
ORDER = 9
DESCRIPTION = ("malformed, empty, invalid UTF-8, NaN, 10 MB lines, gzip good/cut short/not gzip/bomb, odd keys, "
               "other suffixes, type clashes, values a typed column would change, deep and wide records, deleted "
               "and overwritten objects, test and foreign messages: each has its outcome, the alarms fire, and "
               "validation accounts for every line and every value")

DATE = "2026-11-27"
P = f"bad-input/{DATE}/"
MB = 1024 * 1024
ALARMS = ("quarantined-records", "quarantined-files", "overwritten-files")


def _lines(*docs) -> bytes:
    return b"".join(json.dumps(d).encode() + b"\n" for d in docs)


def _deep(levels: int) -> dict:
    doc: dict = {"leaf": 1}
    for _ in range(levels):
        doc = {"d": doc}
    return doc


def _cut_gzip(whole_lines: int) -> bytes:
    """A gzip stream that stops inside line whole_lines + 1, with no end marker: an upload cut short."""
    z = zlib.compressobj(wbits=31)
    body = z.compress(_lines(*({"i": i, "pad": "p" * 40} for i in range(whole_lines))))
    body += z.compress(b'{"i": 999, "pa') + z.flush(zlib.Z_SYNC_FLUSH)
    return body


CUT_WHOLE = 150
WIDE = 3000
GZIP_LIMIT = 4 * MB  # deployed for this scenario, so a bomb is cut without decompressing gigabytes
BOMB_LINES = 1000
# Valid JSON that a typed column would change (and, for NaN and Infinity, lines that are not JSON).
FIDELITY = (b'{"fid":1,"huge":12345678901234567890,"mixed":9007199254740993,"t":"2024-01-01T12:00:00+02:00",'
            b'"day":"2024-01-01","meta":{},"pi":3.14159265358979323846264338,"s":"x\\ud800y","dup":1,"dup":2,'
            b'"_line":"mine"}\n'
            b'{"fid":2,"huge":1,"mixed":1.5,"t":"2024-01-02T00:00:00Z","day":"2024-01-02","meta":{},"pi":1.5,"s":"ok",'
            b'"dup":3,"_line":"also mine"}\n'
            b'{"fid":3,"v":NaN}\n{"fid":4,"v":-Infinity}\n')
INPUTS = {
    "mixed.ndjson": b'{"a": 1}\n{"a": broken\n[1, 2]\n42\n{"a": 5}\n{"a": "\xff\xfe"}\n',
    "empty.ndjson": b"",
    "blank.jsonl": b"\n \n\r\n",
    "long-line.ndjson": b'{"big": "' + b"x" * (10 * MB + 1) + b'"}\n{"a": 2}\n',
    "good.ndjson.gz": gzip.compress(_lines({"z": 1}, {"z": 2}, {"z": 3})),
    "cut.ndjson.gz": _cut_gzip(CUT_WHOLE),
    "plain-text.ndjson.gz": _lines({"not": "compressed"}),
    "odd key with space+plus%25 é ü.ndjson": _lines({"odd": 1}, {"odd": 2}),
    "types-number.ndjson": _lines({"id": 1, "amount": 10.5}),
    "types-text.ndjson": _lines({"id": "A-1", "amount": "ten"}),
    "deep.ndjson": _lines(_deep(60)),
    "wide.ndjson": _lines({f"f{i:04d}": i for i in range(WIDE)}),
    "late.ndjson": _lines({"version": 1}, {"version": 1}),
    "fidelity.ndjson": FIDELITY,
    "switching.ndjson": _lines(*({"v": [1, "x", {"k": i}, [i], True, None][i % 6], "i": i} for i in range(600))),
    "bomb.ndjson.gz": gzip.compress(_lines(*({"a": i} for i in range(BOMB_LINES))) + b"\0" * (64 * MB)),
}
OUTSIDE = ("notes.csv", "data.parquet", "README")
EARLY = ("early.ndjson", _lines({"version": 1}), _lines({"version": 2}, {"version": 2}, {"version": 2}))
LATE_V2 = _lines({"version": 2}, {"version": 2}, {"version": 2}, {"version": 2})


def _rows(ctx) -> list[dict]:
    s3 = ctx.target.client("s3")
    out = []
    for obj in s3.list_objects_v2(Bucket=ctx.names.output_bucket, Prefix="parquet/").get("Contents", []):
        table = pq.read_table(io.BytesIO(s3.get_object(Bucket=ctx.names.output_bucket, Key=obj["Key"])["Body"].read()))
        out += [{k: v for k, v in r.items() if v is not None} for r in table.to_pylist()]
    return out


def _quarantine(ctx) -> list[dict]:
    s3 = ctx.target.client("s3")
    out = []
    for obj in s3.list_objects_v2(Bucket=ctx.names.output_bucket, Prefix="quarantine/").get("Contents", []):
        body = s3.get_object(Bucket=ctx.names.output_bucket, Key=obj["Key"])["Body"].read()
        out += [json.loads(line) for line in body.splitlines()]
    return out


def _generic(ctx):
    """Any pipeline: the same inputs landed; every landed record must come out with its values, no
    workflow may fail, whatever the pipeline does with the lines that are no record."""
    ctx.fresh(batch_size=50)
    ctx.land({P + k: v for k, v in INPUTS.items()})
    ctx.wait(len(INPUTS), stall_timeout_s=180)
    v = ctx.validate()
    evidence = {"inputs": sorted(INPUTS), "records_in": v["records_in"], "records_out": v["records_out"],
                "not_records": v.get("not_records"), "missing": v["missing"], "duplicates": v["duplicates"],
                "altered": v["altered"], "unexpected": v.get("unexpected"), "failed_workflows": v["manifests_failed"],
                "problems": v["problems"], "examples": v.get("examples", {})}
    findings = list(v["problems"])
    return ctx.verdict(bool(v["pass"]), evidence, findings)


def run(ctx):
    if not ctx.own:
        return _generic(ctx)
    ctx.fresh(batch_size=50, gzip_max_bytes=GZIP_LIMIT)
    cw = ctx.target.client("cloudwatch")
    alarm_names = [ctx.names.alarm(a) for a in ALARMS]
    for name in alarm_names:
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="scenario start")
    inbox = ctx.inbox()
    s3 = ctx.target.client("s3")
    bucket = ctx.names.landing_bucket

    # Land everything: the bad inputs, keys outside the contract, a file deleted before it is
    # converted, and a key overwritten while still pending (its latest content is converted).
    ctx.land({P + k: v for k, v in INPUTS.items()})
    ctx.land({P + k: b"a,b\n1,2\n" for k in OUTSIDE})
    s3.put_object(Bucket=bucket, Key=P + "gone.ndjson", Body=_lines({"a": 1}))
    s3.delete_object(Bucket=bucket, Key=P + "gone.ndjson")
    early_key, early_v1, early_v2 = EARLY
    s3.put_object(Bucket=bucket, Key=P + early_key, Body=early_v1)
    s3.put_object(Bucket=bucket, Key=P + early_key, Body=early_v2)
    tracked_files = len(INPUTS) + 2
    ctx.wait(tracked_files, stall_timeout_s=120)

    # The same key overwritten after its manifest: not converted again, recorded and alarmed.
    s3.put_object(Bucket=bucket, Key=P + "late.ndjson", Body=LATE_V2)
    ctx.until(lambda: "overwritten_etag" in ctx.file_item(DATE, P + "late.ndjson"), timeout=60,
              what="the overwrite to be recorded")
    late = ctx.file_item(DATE, P + "late.ndjson")
    fired = {}
    for name in alarm_names:
        try:
            fired[name] = ctx.await_alarm(inbox, name, timeout=60).get("NewStateValue")
        except TimeoutError:
            fired[name] = None

    verdict = ctx.validate()
    rows = _rows(ctx)
    by_key: dict[str, list[dict]] = {}
    for r in rows:
        by_key.setdefault(r["_source_key"].removeprefix(P), []).append(r)
    quarantined = {(q["source_key"].removeprefix(P), q["line"]): q for q in _quarantine(ctx)}

    def lines_of(key):
        return sorted(r["_line"] for r in by_key.get(key, []))

    def reason(key, line):
        return quarantined.get((key, line), {}).get("reason", "")

    checks = []

    def check(what: str, expected: str, ok: bool, got) -> None:
        checks.append({"input": what, "expected": expected, "ok": bool(ok), "got": got})

    check("malformed JSON, an array, a scalar, invalid UTF-8 among good lines",
          "good lines 1 and 5 converted; lines 2, 3, 4, 6 quarantined with reasons",
          lines_of("mixed.ndjson") == [1, 5] and reason("mixed.ndjson", 2) == "invalid JSON"
          and reason("mixed.ndjson", 3) == "a JSON array, not an object"
          and reason("mixed.ndjson", 4) == "a JSON number, not an object"
          and reason("mixed.ndjson", 6) == "invalid UTF-8",
          {"rows": lines_of("mixed.ndjson"), "quarantined": {n: reason("mixed.ndjson", n) for n in (2, 3, 4, 6)}})
    check("a zero-byte object and a file of blank lines", "no rows, nothing quarantined, both in a manifest",
          not by_key.get("empty.ndjson") and not by_key.get("blank.jsonl")
          and not any(k in ("empty.ndjson", "blank.jsonl") for k, _ in quarantined),
          {"rows": len(by_key.get("empty.ndjson", [])) + len(by_key.get("blank.jsonl", []))})
    big = [r for r in by_key.get("long-line.ndjson", []) if r["_line"] == 1]
    check("a single line over 10 MB", "converted whole, with the line after it",
          lines_of("long-line.ndjson") == [1, 2] and big and len(big[0]["big"]) == 10 * MB + 1,
          {"rows": lines_of("long-line.ndjson"), "big_value_bytes": len(big[0]["big"]) if big else 0})
    check("gzip-compressed NDJSON", "decompressed and converted", lines_of("good.ndjson.gz") == [1, 2, 3],
          lines_of("good.ndjson.gz"))
    cut_rows = lines_of("cut.ndjson.gz")
    check("a gzip stream cut short inside a line",
          f"lines 1-{CUT_WHOLE} converted; line {CUT_WHOLE + 1} quarantined as cut short; a file record says where",
          cut_rows == list(range(1, CUT_WHOLE + 1))
          and reason("cut.ndjson.gz", CUT_WHOLE + 1).startswith("the line is cut short")
          and f"inside line {CUT_WHOLE + 1}" in reason("cut.ndjson.gz", None),
          {"rows": len(cut_rows), "tail": reason("cut.ndjson.gz", CUT_WHOLE + 1),
           "file": reason("cut.ndjson.gz", None)})
    check("a .gz key holding plain text", "quarantined whole as not gzip data; the manifest still succeeds",
          not by_key.get("plain-text.ndjson.gz") and reason("plain-text.ndjson.gz", None).startswith("not gzip data"),
          reason("plain-text.ndjson.gz", None))
    odd = "odd key with space+plus%25 é ü.ndjson"
    check("a key with spaces, +, % and non-ASCII (URL-encoded in the event)", "decoded and converted under its key",
          lines_of(odd) == [1, 2], {"rows": lines_of(odd), "keys_seen": sorted(k for k in by_key if "odd" in k)})
    check("keys outside the contract's suffixes", f"ignored and counted ({len(OUTSIDE)})",
          verdict["not_landing_keys"] == len(OUTSIDE) and not any(k in by_key for k in OUTSIDE),
          verdict["not_landing_keys"])
    types = {r["id"]: r for k in ("types-number.ndjson", "types-text.ndjson") for r in by_key.get(k, [])}
    check("a field that is a number in one file and text in another", "both records kept, the field as JSON text",
          set(types) == {"1", '"A-1"'}, sorted(types))
    deep = by_key.get("deep.ndjson", [])
    check("a record nested 60 levels deep", "kept, the too-deep field as JSON text",
          len(deep) == 1 and json.loads(deep[0]["d"]) == _deep(59), len(deep))
    fid = {r["fid"]: r for r in by_key.get("fidelity.ndjson", [])}
    one = fid.get(1, {})
    check("valid JSON a typed column would change: an integer beyond int64, one beyond 2**53 beside a decimal, "
          "a decimal with 27 digits, a lone surrogate escape, an empty object; date-like strings; a repeated name; "
          "a field named _line",
          "converted, never quarantined: such fields as exact JSON text, dates as the same strings, the last value "
          "of a repeated name, the field beside the lineage as _line_record",
          sorted(fid) == [1, 2] and one.get("huge") == "12345678901234567890" and one.get("mixed") == "9007199254740993"
          and one.get("pi") == "3.14159265358979323846264338" and one.get("meta") == "{}"
          and one.get("t") == "2024-01-01T12:00:00+02:00" and one.get("day") == "2024-01-01"
          and one.get("s") == '"x\\ud800y"' and one.get("dup") == 2 and one.get("_line_record") == "mine",
          {k: one.get(k) for k in ("huge", "mixed", "pi", "meta", "t", "day", "s", "dup", "_line_record")})
    check("NaN and -Infinity (not JSON)", "quarantined with the reason, the other lines kept",
          "not a JSON number" in reason("fidelity.ndjson", 3) and "not a JSON number" in reason("fidelity.ndjson", 4),
          {n: reason("fidelity.ndjson", n) for n in (3, 4)})
    switching = by_key.get("switching.ndjson", [])
    check("a field that changes type on every line (600 lines)", "every line converted, the field as JSON text",
          len(switching) == 600 and not any(k == "switching.ndjson" for k, _ in quarantined),
          {"rows": len(switching)})
    bomb_rows = lines_of("bomb.ndjson.gz")
    check(f"a gzip bomb (64 MB of zeros after {BOMB_LINES} lines, deployed limit {GZIP_LIMIT} bytes)",
          "the lines before the limit converted; the cut line quarantined; a file record names the limit",
          bomb_rows == list(range(1, BOMB_LINES + 1))
          and f"passed the limit of {GZIP_LIMIT} bytes" in reason("bomb.ndjson.gz", None)
          and reason("bomb.ndjson.gz", BOMB_LINES + 1).startswith("the line is cut short"),
          {"rows": len(bomb_rows), "file": reason("bomb.ndjson.gz", None)})
    wide = by_key.get("wide.ndjson", [])
    check(f"a record with {WIDE} fields", "kept with every field",
          len(wide) == 1 and sum(1 for k in wide[0] if k.startswith("f")) == WIDE,
          sum(1 for k in wide[0] if k.startswith("f")) if wide else 0)
    check("an object deleted before it is converted", "quarantined whole with the reason",
          reason("gone.ndjson", None) == "object deleted before conversion", reason("gone.ndjson", None))
    early_item = ctx.file_item(DATE, P + early_key)
    early_etag = s3.head_object(Bucket=bucket, Key=P + early_key)["ETag"].strip('"')
    check("a key overwritten while still pending", "its latest content converted, once; the item holds its ETag",
          lines_of(early_key) == [1, 2, 3] and all(r.get("version") == 2 for r in by_key[early_key])
          and early_item.get("etag") == early_etag and "overwritten_etag" not in early_item,
          {"rows": lines_of(early_key), "item_has_latest_etag": early_item.get("etag") == early_etag,
           "refreshed": "refreshed_at" in early_item})
    check("a key overwritten after its manifest", "first content kept, the overwrite recorded, alarmed, reported",
          lines_of("late.ndjson") == [1, 2] and late.get("overwrites") == 1 and verdict["overwritten_files"] == 1
          and fired.get(ctx.names.alarm("overwritten-files")) == "ALARM",
          {"rows": lines_of("late.ndjson"), "overwrites": late.get("overwrites"),
           "validation_overwritten_files": verdict["overwritten_files"]})
    for name in alarm_names[:2]:
        check(f"alarm {name}", "ALARM reaches the SNS topic", fired.get(name) == "ALARM", fired.get(name))

    # Queue messages that are not files: a test event is skipped; a foreign message is retried
    # and dead-lettered (the DLQ alarm covers it), never dropped.
    sqs = ctx.target.client("sqs")
    watcher = ctx.watcher()
    sqs.set_queue_attributes(QueueUrl=ctx.queue_url(), Attributes={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=ctx.queue_url(),
                     MessageBody=json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": bucket}))
    sqs.send_message(QueueUrl=ctx.queue_url(), MessageBody="a message from some other producer")
    try:
        ctx.until(lambda: watcher.snapshot().dlq_visible == 1, timeout=60, what="the foreign message in the DLQ")
        time.sleep(3)
        snap = watcher.snapshot()
    finally:
        ctx.redeploy(batch_size=50)  # the visibility timeout back
    check("an s3:TestEvent and a foreign message in the queue",
          "the test event skipped; the foreign message dead-lettered after its retries; nothing tracked",
          snap.dlq_visible == 1 and snap.queue_visible == 0 and snap.tracked == tracked_files,
          {"dlq": snap.dlq_visible, "tracked": snap.tracked})

    balanced = verdict["records_in"] == verdict["records_out"] + verdict["quarantined"]
    check("the whole landing", "validation passes; records in = out + quarantined; every value as it came in",
          verdict["pass"] and balanced and verdict["altered"] == 0
          and verdict["records_compared"] == verdict["records_out"],
          {k: verdict[k] for k in ("pass", "records_in", "records_out", "records_compared", "altered", "quarantined",
                                   "quarantined_files", "overwritten_files", "problems")})
    evidence = {"checks": checks, "alarms": fired,
                "quarantine_entries": len(quarantined), "validation": {k: verdict[k] for k in (
                    "records_in", "records_out", "quarantined", "quarantined_files", "not_landing_keys",
                    "overwritten_files", "overwritten_rows_set_aside", "duplicates", "missing")}}
    failed = [c["input"] for c in checks if not c["ok"]]
    findings = [f"{len(checks) - len(failed)} of {len(checks)} bad inputs had their defined outcome"]
    if failed:
        findings.append("not as defined: " + "; ".join(failed))
    return ctx.verdict(not failed, evidence, findings)
