"""Pairing a landed record that has no equal row with a row that has no equal record: probably one
record, altered. Without lineage nothing says so for certain; a pair is made only when the two
identify each other and agree on most of their values:

- each record is cut into leaves: the JSON Pointer of every value that is not an object (an array
  is one leaf), with that value's canonical text;
- a leaf held by exactly one landed record and exactly one row (among those left unmatched) links
  the two: an identifying value, such as an event id;
- a landed record and a row are paired when they link only to each other (no other record or
  row shares an identifying value with either) and share at least half the leaves of the larger.

Copies of one record (equal digests) are one group on each side; two groups paired pair as many
copies as both have. Anything not paired stays missing (landed) or unexpected (a row). Runs in
DuckDB: a converter that alters every record leaves every record unmatched.
"""

from __future__ import annotations

from hashlib import blake2b

import duckdb
import pyarrow as pa

from sim.validate import canonical


def leaves(value, path: str = ""):
    """(pointer, canonical text) of every non-object value below `value`."""
    if type(value) is dict:
        for key, member in value.items():
            if member is not None:
                yield from leaves(member, path + "/" + str(key).replace("~", "~0").replace("/", "~1"))
    else:
        yield path, canonical.text(value)


def _leaf_ids(value) -> set[int]:
    return {int.from_bytes(blake2b(p.encode("utf-8", "surrogatepass") + b"\0" + t, digest_size=8).digest(), "big",
                           signed=True) for p, t in leaves(value)}


def pair(landed: list[tuple[bytes, dict]], rows: list[tuple[bytes, dict]]) -> list[tuple[int, int]]:
    """`landed`, `rows`: (digest, value) of the unmatched; returns (landed index, row index) pairs."""
    if not landed or not rows:
        return []
    groups_l, groups_r = _groups(landed), _groups(rows)
    con = duckdb.connect()
    for name, groups, items in (("fl", groups_l, landed), ("fr", groups_r, rows)):
        g_col, leaf_col = [], []
        for g, members in enumerate(groups):
            ids = _leaf_ids(items[members[0]][1])
            g_col += [g] * len(ids)
            leaf_col += ids
        con.register(name, pa.table({"g": pa.array(g_col, pa.int64()), "leaf": pa.array(leaf_col, pa.int64())}))
    found = con.execute("""
        WITH ul AS (SELECT leaf FROM fl GROUP BY leaf HAVING count(*) = 1),
             ur AS (SELECT leaf FROM fr GROUP BY leaf HAVING count(*) = 1),
             links AS (SELECT DISTINCT fl.g AS gl, fr.g AS gr FROM fl JOIN fr USING (leaf)
                       WHERE leaf IN (SELECT leaf FROM ul) AND leaf IN (SELECT leaf FROM ur)),
             sole AS (SELECT gl, gr FROM links
                      WHERE gl IN (SELECT gl FROM links GROUP BY gl HAVING count(*) = 1)
                        AND gr IN (SELECT gr FROM links GROUP BY gr HAVING count(*) = 1)),
             nl AS (SELECT g, count(*) AS n FROM fl GROUP BY g),
             nr AS (SELECT g, count(*) AS n FROM fr GROUP BY g),
             shared AS (SELECT o.gl, o.gr, count(*) AS n FROM sole o
                        JOIN fl ON fl.g = o.gl JOIN fr ON fr.g = o.gr AND fr.leaf = fl.leaf GROUP BY o.gl, o.gr)
        SELECT s.gl, s.gr FROM shared s JOIN nl ON nl.g = s.gl JOIN nr ON nr.g = s.gr
        WHERE 2 * s.n >= greatest(nl.n, nr.n) ORDER BY s.gl""").fetchall()
    con.close()
    pairs = []
    for gl, gr in found:
        pairs += list(zip(groups_l[gl], groups_r[gr]))
    return pairs


def _groups(items: list[tuple[bytes, dict]]) -> list[list[int]]:
    """Indices of `items` grouped by digest (copies of one record), in first-seen order."""
    by: dict[bytes, list[int]] = {}
    for i, (h, _) in enumerate(items):
        by.setdefault(h, []).append(i)
    return list(by.values())
