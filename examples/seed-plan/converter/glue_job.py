"""NDJSON to Parquet, one manifest at a time: a plain pyarrow Glue Python-shell job.

The workflow starts it with the manifest's location; it reads the manifest (a JSON list of
{"bucket", "key"}), reads each listed NDJSON object, parses each line with the standard json
module, builds one Arrow table from all the records and writes it as one zstd Parquet file,
`parquet/date=<date>/manifest=<id>.parquet` in the output bucket. The plan shows no converter
code; this is the plain one its team would write, with two rules that keep every value:

- A top-level field whose values one typed column cannot hold (pyarrow refuses them: an integer
  beyond 64 bits, values of several JSON types such as 1 and "one") is written as JSON text in
  that manifest. Without this rule a plain converter fails the whole manifest on one such
  record, or (casting to string first) writes Python's repr, which no reader parses back.
- A field whose type holds an object with no members (`"attributes": {}` in every record) is
  JSON text too: Parquet cannot store a struct without fields, and a plain converter either fails
  the manifest or drops the column, and with it the records' empty objects.
Such columns carry the Arrow field metadata `sim.json_text`. Strings stay strings: nothing that
looks like a time is turned into a timestamp (so no offset is lost), and every record's keys make
the schema, not the first record's. Lines that are not JSON objects are skipped and counted in the
log (never their content). Python 3.9 (Glue's Python shell): no newer syntax here.
"""

import gzip
import io
import json
import logging
import sys

import boto3
import pyarrow as pa
import pyarrow.parquet as pq

ARGUMENTS = ["manifest_bucket", "manifest_key", "manifest_id", "date_prefix", "output_bucket"]
JSON_TEXT_KEY = b"sim.json_text"
REFUSED = "values one typed column cannot hold"
EMPTY_OBJECT = "an object with no members, which Parquet cannot store"

logger = logging.getLogger("glue_job")


def parse_lines(body):
    """The JSON objects of an NDJSON body, and how many non-blank lines were not one."""
    records = []
    skipped = 0
    for line in body.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line.decode("utf-8"))
        except (ValueError, RecursionError):  # invalid UTF-8, malformed JSON, nesting too deep
            skipped += 1
            continue
        if isinstance(value, dict):
            records.append(value)
        else:
            skipped += 1
    return records, skipped


def field_names(records):
    """Every top-level key of every record, in the order first seen."""
    names = {}
    for record in records:
        for name in record:
            names.setdefault(name, None)
    return list(names)


def _has_empty_struct(data_type):
    if pa.types.is_struct(data_type):
        return data_type.num_fields == 0 or any(
            _has_empty_struct(data_type.field(i).type) for i in range(data_type.num_fields))
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return _has_empty_struct(data_type.value_type)
    return False


def _json_text(values):
    try:
        return pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in values], pa.string())
    except UnicodeEncodeError:  # a lone surrogate (valid JSON, not Unicode text): escaped instead
        return pa.array([None if v is None else json.dumps(v) for v in values], pa.string())


def typed_or_text(values):
    """The column pyarrow infers for a field's values (as `pa.array(records)` would for that
    field), or, where it refuses them or Parquet cannot store its type, the values as JSON text.
    Returns (array, reason); reason is "" for a typed column."""
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, UnicodeEncodeError):
        return _json_text(values), REFUSED
    if _has_empty_struct(array.type):
        return _json_text(values), EMPTY_OBJECT
    return array, ""


def records_to_table(records):
    """One Arrow table for a manifest's records, field by field, so that one field pyarrow
    refuses costs that field its type, not the manifest. Returns (table, {field: reason})."""
    arrays, fields, text_fields = [], [], {}
    for name in field_names(records):
        array, reason = typed_or_text([record.get(name) for record in records])
        arrays.append(array)
        if reason:
            text_fields[name] = reason
            fields.append(pa.field(name, pa.string(), metadata={JSON_TEXT_KEY: reason.encode()}))
        else:
            fields.append(pa.field(name, array.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields)), text_fields


def output_key(date_prefix, manifest_id):
    return f"parquet/date={date_prefix}/manifest={manifest_id}.parquet"


def read_object(s3, bucket, key):
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return gzip.decompress(body) if key.endswith(".gz") else body


def convert(s3, manifest_bucket, manifest_key, manifest_id, date_prefix, output_bucket):
    """Convert one manifest; returns a summary of counts (no record content)."""
    entries = json.loads(s3.get_object(Bucket=manifest_bucket, Key=manifest_key)["Body"].read())
    records = []
    skipped = 0
    for entry in entries:
        file_records, file_skipped = parse_lines(read_object(s3, entry["bucket"], entry["key"]))
        records.extend(file_records)
        skipped += file_skipped
        if file_skipped:
            logger.warning("skipped %d lines that are not JSON objects in %s", file_skipped, entry["key"])
    table, text_fields = records_to_table(records)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    key = output_key(date_prefix, manifest_id)
    s3.put_object(Bucket=output_bucket, Key=key, Body=buffer.getvalue())
    summary = {"manifest_id": manifest_id, "files": len(entries), "records": table.num_rows,
               "skipped_lines": skipped, "json_text_fields": sorted(text_fields), "output_key": key}
    logger.info("converted %s", json.dumps(summary))
    return summary


def main(argv=None):
    # Glue's Python shell provides awsglue; imported here so the functions above load anywhere.
    from awsglue.utils import getResolvedOptions

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = getResolvedOptions(sys.argv if argv is None else argv, ARGUMENTS)
    return convert(boto3.client("s3"), args["manifest_bucket"], args["manifest_key"], args["manifest_id"],
                   args["date_prefix"], args["output_bucket"])


if __name__ == "__main__":
    main()
