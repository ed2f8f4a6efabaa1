"""Glue Python-shell job: the objects a manifest lists, NDJSON to one Parquet file.

Every field is stored as JSON text (so no value changes type), beside the time of ingestion.
Lines that are not JSON objects are written to a rejects file naming the object and line.
"""
import datetime
import gzip
import io
import json
import sys

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["manifest", "batch", "target_bucket"])
s3 = boto3.client("s3")


def split(uri):
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


bucket, key = split(args["manifest"])
uris = [u for u in s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines() if u]
rows, rejects = [], []
for uri in uris:
    b, k = split(uri)
    body = s3.get_object(Bucket=b, Key=k)["Body"].read()
    if k.endswith(".gz"):
        body = gzip.decompress(body)
    for number, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        if isinstance(value, dict):
            rows.append(value)
        else:
            rejects.append({"source_key": k, "line": number})

names = []
for row in rows:
    for name in row:
        if name not in names:
            names.append(name)
fields = [pa.field(n, pa.string(), metadata={b"sim.json_text": b"all fields are JSON text"}) for n in names]
columns = [pa.array([json.dumps(r[n]) if n in r else None for r in rows], pa.string()) for n in names]
now = datetime.datetime.now(datetime.timezone.utc)
fields.append(pa.field("ingested_at", pa.timestamp("us", tz="UTC")))
columns.append(pa.array([now] * len(rows), pa.timestamp("us", tz="UTC")))
buffer = io.BytesIO()
pq.write_table(pa.Table.from_arrays(columns, schema=pa.schema(fields)), buffer)
s3.put_object(Bucket=args["target_bucket"], Key="curated/%s.parquet" % args["batch"], Body=buffer.getvalue())
if rejects:
    s3.put_object(Bucket=args["target_bucket"], Key="rejects/%s.jsonl" % args["batch"],
                  Body="\n".join(json.dumps(r) for r in rejects).encode())
