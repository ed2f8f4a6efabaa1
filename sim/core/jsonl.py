"""JSON-lines files the project appends to (upload logs, telemetry, the user count's steps), read
the one way: line by line, skipping a line cut short by a process killed mid-write, so the rest
stays usable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator


def read_jsonl(path: str | Path | None) -> Iterator[dict]:
    """Each whole JSON line of the file; nothing when there is no such file."""
    if not path or not Path(path).exists():
        return
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                yield json.loads(raw)
            except ValueError:
                continue  # a line cut by a killed process
