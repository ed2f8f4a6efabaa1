"""What the multiset check needs to know about a pipeline: where its landed files and its output
are, which output columns to drop or read as JSON text, where it quarantines lines, how many
workers to use (a pipeline description file supplies them; sim's own are in run.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.errors import SimError


@dataclass
class Options:
    """What the check needs to know about a pipeline (a description file supplies it)."""

    landing_bucket: str
    output_bucket: str
    output_prefix: str = ""
    ignore_columns: tuple[str, ...] = ()
    json_text_columns: tuple[str, ...] = ()
    quarantine_prefix: str | None = None  # in the output bucket
    workers: int = 2
    renamed_by_metadata: bool = True  # read `sim.renamed_fields` from each output's metadata
    # Landed keys left out, with the rows whose `set_aside_column` holds one of them (sim's own
    # pipeline: keys overwritten after conversion, whose converted content is gone).
    set_aside_keys: frozenset = frozenset()
    set_aside_column: str | None = None

    def __post_init__(self):
        self.ignore_columns = tuple(self.ignore_columns)
        self.json_text_columns = tuple(self.json_text_columns)
        if not isinstance(self.workers, int) or self.workers < 1:
            raise SimError(f"multiset check: workers must be a whole number of at least 1, not {self.workers!r}")
        for name in ("landing_bucket", "output_bucket"):
            if not getattr(self, name):
                raise SimError(f"multiset check: {name} is required")
        if self.quarantine_prefix == "":
            self.quarantine_prefix = None
