"""A backlog of pending files written straight into the builder's table, and a meter of what a
piece of code reads from DynamoDB: how the cost of one scheduled flush is measured against the
size of the backlog (scripts/bench_flush.py, tests/integration/test_flush_cost.py).

The items are those `State.track_file` leaves (a FILE item per file, pending, and the date's DATE
item), written with BatchWriteItem so that 100,000 files take seconds, not an SQS drain.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from sim.pipeline.state import DATES

_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


def pending_items(date_prefix: str, count: int, bucket: str, tracked_at: float, prefix: str = "backlog") -> list[dict]:
    """FILE items as tracking leaves them, `count` of them, all tracked at `tracked_at`."""
    t = Decimal(str(round(tracked_at, 3)))
    return [{"date_prefix": date_prefix, "file_key": f"{prefix}/{i:07d}.ndjson", "record_type": "FILE",
             "status": "pending", "pending_date": date_prefix, "bucket": bucket, "size": 1024, "etag": f"e{i}",
             "sequencer": "", "tracked_at": t} for i in range(count)]


def write_backlog(table, date_prefix: str, count: int, bucket: str, tracked_at: float, prefix: str = "backlog",
                  threads: int = 8) -> int:
    """Write `count` pending files of one date and the date's DATE item; returns files written."""
    table.put_item(Item={"date_prefix": DATES, "file_key": date_prefix, "record_type": "DATE",
                         "touched_at": Decimal(str(round(tracked_at, 3))), "touches": 1})
    items = pending_items(date_prefix, count, bucket, tracked_at, prefix)
    chunks = [items[i:i + 1000] for i in range(0, len(items), 1000)]

    def put(chunk: list[dict]) -> int:
        with table.batch_writer() as batch:  # 25 a request, unprocessed items resent
            for item in chunk:
                batch.put_item(Item=item)
        return len(chunk)

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(put, chunks))


def _size(value) -> int:
    """DynamoDB's item size rules, near enough: names and values in bytes, numbers ~1 byte per 2 digits."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, (int, float, Decimal)):
        return 1 + math.ceil(len(str(value).lstrip("-").replace(".", "")) / 2)
    if isinstance(value, (set, frozenset, list, tuple)):
        return 3 + sum(_size(v) + 1 for v in value)
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("S", "N", "B", "SS", "NS", "BS", "M", "L", "BOOL", "NULL"):
            return _size(next(iter(value.values())))  # a typed value of the low-level client
        return 3 + sum(len(k.encode()) + _size(v) + 1 for k, v in value.items())
    return len(str(value))


def item_size(item: dict) -> int:
    return sum(len(k.encode()) + _size(v) for k, v in item.items())


class ReadMeter:
    """Every read a DynamoDB client makes while on: requests, items read, the ConsumedCapacity the
    engine reports (ReturnConsumedCapacity=TOTAL is asked on each read) and the read units DynamoDB
    would charge for the items returned (4 KB units; half for eventually consistent reads). A
    COUNT query returns no items: its units are not estimated, its items read are counted."""

    def __init__(self, client):
        self.client = client
        self.on = False
        self.requests = 0
        self.items_read = 0
        self.reported_units = 0.0
        self.estimated_units = 0.0
        self.by_operation: dict[str, int] = {}
        self._lock = threading.Lock()
        self._consistent = threading.local()  # the current request's ConsistentRead
        events = client.meta.events
        events.register("provide-client-params.dynamodb.*", self._params)
        events.register("after-call.dynamodb.*", self._after)

    def __enter__(self) -> "ReadMeter":
        self.on = True
        return self

    def __exit__(self, *exc) -> None:
        self.on = False

    def _params(self, params, model, **_):
        if self.on and model.name in _READS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
            consistent = bool(params.get("ConsistentRead"))
            if model.name == "BatchGetItem":
                consistent = any(r.get("ConsistentRead") for r in params.get("RequestItems", {}).values())
            self._consistent.value = consistent

    def _after(self, parsed, model, **_):
        if not self.on or model.name not in _READS or not isinstance(parsed, dict):
            return
        consumed = parsed.get("ConsumedCapacity")
        consumed = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        reported = sum(float(c.get("ReadCapacityUnits") or c.get("CapacityUnits") or 0) for c in consumed)
        if model.name == "GetItem":
            items = [parsed["Item"]] if parsed.get("Item") else []
            read, units = len(items), sum(max(1, math.ceil(item_size(i) / 4096)) for i in items) or 1
        elif model.name in ("Query", "Scan"):
            items = parsed.get("Items", [])
            read = int(parsed.get("ScannedCount", len(items)))
            units = max(1, math.ceil(sum(item_size(i) for i in items) / 4096))
        else:
            items = [i for group in (parsed.get("Responses") or {}).values() for i in group]
            items = [i.get("Item", i) if isinstance(i, dict) and "Item" in i else i for i in items]
            read, units = len(items), sum(max(1, math.ceil(item_size(i) / 4096)) for i in items)
        if not getattr(self._consistent, "value", True):
            units /= 2  # eventually consistent: half a unit per 4 KB
        with self._lock:
            self.requests += 1
            self.items_read += read
            self.reported_units += reported
            self.estimated_units += units
            self.by_operation[model.name] = self.by_operation.get(model.name, 0) + 1

    def summary(self) -> dict:
        return {"requests": self.requests, "items_read": self.items_read,
                "engine_read_units": round(self.reported_units, 2),
                "estimated_read_units": round(self.estimated_units, 2), "by_operation": dict(self.by_operation)}
