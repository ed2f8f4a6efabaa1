"""Prices, quotas and the plan's own figures, kept as plain data in Python modules.

Python modules rather than JSON files so that every install (editable, wheel, the Lambda zip's
neighbours) carries them without package-data settings. Each price and quota row names its source
and the date it was gathered; `load_table` returns them keyed by id so overrides can replace values.
"""

from __future__ import annotations

import copy

from . import prices, quotas


def _keyed(rows: list[dict], kind: str) -> dict[str, dict]:
    table: dict[str, dict] = {}
    for row in rows:
        if row["id"] in table:
            raise ValueError(f"duplicate {kind} id {row['id']!r}")
        table[row["id"]] = dict(row)
    return table


def load_prices() -> dict[str, dict]:
    return _keyed(copy.deepcopy(prices.ROWS), "price")


def load_quotas() -> dict[str, dict]:
    return _keyed(copy.deepcopy(quotas.ROWS), "quota")
