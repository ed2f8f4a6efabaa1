"""The validation verdict for people: one table and the problems under it."""

from __future__ import annotations

from rich.table import Table

from sim.core import console

_ROWS = [
    ("files landed", "files_landed"),
    ("files tracked", "files_tracked"),
    ("files in manifests", "files_in_manifests"),
    ("files in two manifests", "files_in_two_manifests"),
    ("manifests", "manifests"),
    ("workflows", "workflows"),
    ("failed manifests", "manifests_failed"),
    ("unfinished manifests", "manifests_unfinished"),
    ("records in", "records_in"),
    ("records out", "records_out"),
    ("records compared value by value", "records_compared"),
    ("altered (content differs)", "altered"),
    ("duplicates", "duplicates"),
    ("missing", "missing"),
    ("unexpected", "unexpected"),
    ("quarantined lines", "quarantined"),
    ("quarantined files", "quarantined_files"),
    ("overwritten after their manifest", "overwritten_files"),
    ("keys outside the landing suffixes", "not_landing_keys"),
    ("orphans", "orphans"),
]


_WITHOUT_LINEAGE = [("landed lines that are no JSON object", "not_records"), ("messages in the DLQ", "dlq_messages")]


def validation_table(v: dict) -> Table:
    """The counts that apply: a pipeline judged without lineage has no file-level counts (None)."""
    lineage = v.get("lineage", True)
    table = Table(title="validation: " + console.verdict(v["pass"])
                  + ("" if lineage else " (without lineage: records as multisets)"))
    table.add_column("check")
    table.add_column("value", justify="right")
    for label, key in _ROWS + ([] if lineage else _WITHOUT_LINEAGE):
        value = v.get(key, "")
        if value is None:
            continue
        table.add_row(label, str(value))
    ms = v.get("multiset")
    if ms:
        found = ", ".join(f"{k} {ms[k]}" for k in ("missing", "duplicated", "altered", "unexpected") if ms[k])
        table.add_row("without lineage (multiset)",
                      f"{console.verdict(ms['pass'])}{' ' + found if found else ''} in {ms['seconds']['total']:.1f} s")
        if lineage:
            table.add_row("both checks agree", "yes" if v.get("checks_agree") else "[red]no[/]")
    return table


def print_validation(v: dict) -> None:
    """The table, then each problem on its own line."""
    console.out.print(validation_table(v))
    if v.get("state_checks", "").startswith("not applicable"):
        console.out.print(f"[yellow]state checks {v['state_checks']}[/]", highlight=False)
    for p in v.get("problems", []):
        console.out.print(f"[red]- {p}[/]")
