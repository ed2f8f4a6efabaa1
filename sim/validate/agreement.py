"""On sim's own pipeline both checks run -- by lineage (records.py, accounting.py) and as
multisets (multiset.py) -- and must agree: they count the same lines, rows and quarantined lines,
and reach the same verdict on the records. A disagreement is a defect of one of them, so it fails
the validation, saying which way it goes."""

from __future__ import annotations

_COUNTS = (("records_in", "records_in"), ("records_out", "records_out"), ("quarantined", "quarantined"))
_FINDINGS = (("missing", "missing"), ("duplicates", "duplicated"), ("unexpected", "unexpected"),
             ("altered", "altered"))


def lineage_records_pass(doc: dict) -> bool:
    """The lineage check's verdict on the records alone (not on files, manifests or which
    manifest a row names: the multiset cannot see those)."""
    return not any(doc[k] for k, _ in _FINDINGS) and doc["records_in"] == doc["records_out"] + doc["quarantined"]


def disagreements(lineage: dict, multiset: dict) -> list[str]:
    out = [f"the two checks count {label} differently: by lineage {lineage[a]}, as multisets {multiset[b]}"
           for (a, b), label in zip(_COUNTS, ("landed lines", "output rows", "quarantined lines"))
           if lineage[a] != multiset[b]]
    by_lineage = ", ".join(f"{k} {lineage[k]}" for k, _ in _FINDINGS)
    as_multisets = ", ".join(f"{k} {multiset[k]}" for _, k in _FINDINGS)
    if lineage_records_pass(lineage) and not multiset["pass"]:
        out.append(f"the checks disagree: the multiset check fails records the lineage check passes ({as_multisets})")
    elif multiset["pass"] and not lineage_records_pass(lineage):
        out.append(f"the checks disagree: the lineage check fails records the multiset check passes ({by_lineage})")
    return out
