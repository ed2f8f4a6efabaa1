"""End-to-end latency per file: landed (the upload returned) -> in Parquet (its manifest converted).

The converter writes `converted_at` on the MANIFEST item right after the Parquet file is uploaded,
so that is when a file's records became readable; each FILE item names its manifest. One table
scan at the end of the run joins the two with the upload logs' end times.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.infra.spec import Names


@dataclass
class Conversions:
    manifest_of: dict[str, str] = field(default_factory=dict)  # file key -> manifest id
    converted_at: dict[str, float] = field(default_factory=dict)  # manifest id -> epoch seconds
    file_counts: dict[str, int] = field(default_factory=dict)  # manifest id -> files


def read_conversions(target, names: Names) -> Conversions:
    ddb = target.client("dynamodb")
    out = Conversions()
    pages = ddb.get_paginator("scan").paginate(
        TableName=names.table,
        ProjectionExpression="file_key, record_type, manifest_id, converted_at, file_count",
    )
    for page in pages:
        for item in page.get("Items", []):
            kind = item.get("record_type", {}).get("S")
            mid = item.get("manifest_id", {}).get("S")
            if kind == "FILE" and mid:
                out.manifest_of[item["file_key"]["S"]] = mid
            elif kind == "MANIFEST" and mid:
                if "converted_at" in item:
                    out.converted_at[mid] = float(item["converted_at"]["N"])
                if "file_count" in item:
                    out.file_counts[mid] = int(item["file_count"]["N"])
    return out


def end_to_end(landed_at: dict[str, float], conversions: Conversions) -> tuple[list[float], int]:
    """Seconds from landing to conversion for every landed file; and how many have no conversion."""
    values, unconverted = [], 0
    for key, landed in landed_at.items():
        mid = conversions.manifest_of.get(key)
        done = conversions.converted_at.get(mid) if mid else None
        if done is None:
            unconverted += 1
        else:
            values.append(max(0.0, done - landed))
    return values, unconverted
