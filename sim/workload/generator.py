"""Seeded, deterministic NDJSON files of a target size with a production-like record shape.

Each record has a unique event id, timestamps, nested objects, arrays, non-ASCII text, fields that
are present only sometimes, and a fake personal-data block. A few records carry the shapes a
careless converter changes (an empty object, an integer beyond int64, a time with a UTC offset, a
decimal written with all 17 digits of a double), so every run checks that they come out unchanged. The personal data carries planted
canary values (`CANARY_MARK` inside them) so a test can prove no record content reaches a log.
File `i` of seed `s` is always the same bytes, whatever order files are generated in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import uuid
from dataclasses import dataclass

CANARY_MARK = "SIMCANARY"
DEFAULT_FILE_SIZE = int(3.5 * 1024 * 1024)

_EVENT_TYPES = ["page_view", "purchase", "login", "logout", "search", "add_to_cart", "refund", "signup"]
_CITIES = ["São Paulo", "Zürich", "Kraków", "Москва", "東京", "Reykjavík", "Montréal", "İstanbul", "Đà Nẵng", "Cairo"]
_WORDS = ["naïve", "café", "résumé", "smörgåsbord", "jalapeño", "façade", "über", "piñata", "coöperate", "fiancée",
          "alpha", "beta", "gamma", "delta", "signal", "order", "stream", "north", "south", "ledger", "✓", "🚀"]
_DEVICES = ["ios", "android", "web", "tv", "kiosk"]
_SOURCES = ["web", "mobile", "partner feed"]


@dataclass(frozen=True)
class GeneratedFile:
    index: int
    key: str
    body: bytes
    records: int


def _rng(seed: int, *parts) -> random.Random:
    digest = hashlib.sha256(repr((seed,) + parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def file_key(seed: int, index: int, date_prefix: str, prefix: str = "incoming") -> str:
    """A landing key. Some keys have spaces, `+` and non-ASCII, as real uploads do."""
    rng = _rng(seed, "key", index)
    source = _SOURCES[index % len(_SOURCES)]
    name = f"part-{index:06d}"
    if rng.random() < 0.1:
        name += " résumé+copy"
    ext = ".ndjson" if index % 5 else ".jsonl"
    return f"{prefix}/{date_prefix}/{source}/{name}{ext}"


def _record(rng: random.Random, seed: int, index: int, line: int, base: dt.datetime) -> dict:
    occurred = base + dt.timedelta(seconds=rng.randint(0, 86399), microseconds=rng.randint(0, 999999))
    rec: dict = {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "event_type": rng.choice(_EVENT_TYPES),
        "occurred_at": occurred.isoformat(timespec="milliseconds") + "Z",
        "received_at": (occurred + dt.timedelta(milliseconds=rng.randint(5, 5000))).isoformat(timespec="milliseconds") + "Z",
        "sequence": index * 1_000_000 + line,
        "amount": round(rng.uniform(0, 2500), 2),
        "quantity": rng.randint(1, 20),
        "is_test": rng.random() < 0.01,
        "device": {
            "type": rng.choice(_DEVICES),
            "os_version": f"{rng.randint(8, 18)}.{rng.randint(0, 9)}",
            "screen": {"w": rng.choice([375, 390, 1280, 1920]), "h": rng.choice([667, 844, 720, 1080])},
        },
        "geo": {"city": rng.choice(_CITIES), "lat": round(rng.uniform(-60, 70), 5), "lon": round(rng.uniform(-170, 170), 5)},
        "tags": rng.sample(_WORDS, rng.randint(0, 5)),
        "items": [
            {"sku": f"SKU-{rng.randint(1000, 99999)}", "price": round(rng.uniform(1, 500), 2), "qty": rng.randint(1, 4)}
            for _ in range(rng.randint(0, 4))
        ],
        "note": " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 20))),
        "personal": {
            "full_name": f"{CANARY_MARK} Person {seed}-{index}-{line}",
            "email": f"{CANARY_MARK.lower()}.{seed}.{index}.{line}@example.invalid",
            "phone": f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            "national_id": f"{CANARY_MARK}-{rng.randint(100000000, 999999999)}",
        },
    }
    if rng.random() < 0.3:
        rec["coupon"] = {"code": f"C{rng.randint(100, 999)}", "discount_pct": rng.choice([5, 10, 15, 20])}
    if rng.random() < 0.2:
        rec["referrer"] = rng.choice(["https://example.com/ä", "https://example.org/?q=ß", None])
    if rng.random() < 0.1:
        rec["experiment"] = {"name": rng.choice(_WORDS), "variant": rng.choice(["A", "B", "C"])}
    if rng.random() < 0.02:
        rec["attributes"] = {}
    if rng.random() < 0.02:
        rec["ledger_id"] = 2**64 + rng.getrandbits(40)  # beyond int64
    if rng.random() < 0.02:
        rec["local_time"] = occurred.replace(microsecond=0).isoformat() + rng.choice(["+02:00", "-05:30", "+00:00"])
    if rng.random() < 0.02:
        rec["ratio"] = float(f"0.{rng.getrandbits(60):019d}")  # 17 significant digits
    return rec


def generate_file(seed: int, index: int, size: int = DEFAULT_FILE_SIZE, date_prefix: str = "2026-11-25",
                  prefix: str = "incoming") -> GeneratedFile:
    """One file of about `size` bytes (never more, except that one record always fits)."""
    rng = _rng(seed, "body", index)
    base = dt.datetime.fromisoformat(date_prefix)
    lines: list[bytes] = []
    total = 0
    line = 1
    while True:
        encoded = json.dumps(_record(rng, seed, index, line, base), ensure_ascii=False, separators=(",", ":")).encode()
        if lines and total + len(encoded) + 1 > size:
            break
        lines.append(encoded)
        total += len(encoded) + 1
        line += 1
    return GeneratedFile(index, file_key(seed, index, date_prefix, prefix), b"\n".join(lines) + b"\n", len(lines))
