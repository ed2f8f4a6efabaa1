"""Loading examples/seed-plan's code in-process, as Lambda and Glue would load it.

The example is a user's own code, not a package of `sim`: its modules are loaded from their files,
a fresh module object each time (a new Lambda container reads its environment anew). Glue's
Python shell provides `awsglue.utils.getResolvedOptions`; outside Glue a stand-in with the same
behaviour (argparse over argv[1:], every named option required, unknown ones ignored) is put in
sys.modules for the test's duration.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import itertools
import logging
import sys
import types
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "seed-plan"
BUILDER = EXAMPLE / "builder" / "lambda_manifest_builder.py"
CONVERTER = EXAMPLE / "converter" / "glue_job.py"
SOURCES = sorted(EXAMPLE.rglob("*.py"))

_loaded = itertools.count()


def load(path: Path) -> types.ModuleType:
    """A fresh module object from `path` (not added to sys.modules)."""
    spec = importlib.util.spec_from_file_location(f"seed_plan_{path.stem}_{next(_loaded)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def root_logger_kept():
    """The builder sets the root logger's level when it loads (as Lambda code does); put it back."""
    root = logging.getLogger()
    level = root.level
    try:
        yield
    finally:
        root.setLevel(level)


def load_builder(monkeypatch, env: dict[str, str]) -> types.ModuleType:
    """The builder module loaded with exactly these switches and settings in its environment."""
    for name in ("IDEMPOTENT_TRACKING", "MANIFEST_ORDER", "CONDITIONAL_CLAIMS", "REDACT_EVENT_LOG", "LOG_LEVEL",
                 "BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load(BUILDER)


def _get_resolved_options(args, options):
    parser = argparse.ArgumentParser(prog=args[0] if args else "glue_job.py")
    for option in options:
        parser.add_argument("--" + option, required=True)
    parsed, _unknown = parser.parse_known_args(args[1:])
    return vars(parsed)


def install_awsglue(monkeypatch) -> None:
    package = types.ModuleType("awsglue")
    utils = types.ModuleType("awsglue.utils")
    utils.getResolvedOptions = _get_resolved_options
    package.utils = utils
    monkeypatch.setitem(sys.modules, "awsglue", package)
    monkeypatch.setitem(sys.modules, "awsglue.utils", utils)


def _strip_nulls(value):
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def rows_as_records(table) -> list[dict]:
    """Parquet rows back as the records they hold: JSON text columns (field metadata
    `sim.json_text`) parsed, absent and null alike (members that are null are dropped)."""
    text = {f.name for f in table.schema if f.metadata and b"sim.json_text" in f.metadata}
    import json

    records = []
    for row in table.to_pylist():
        records.append(_strip_nulls({k: (json.loads(v) if k in text and v is not None else v)
                                     for k, v in row.items()}))
    return records


def canonical(record: dict) -> str:
    """One record as comparable text: keys sorted, nulls dropped, numbers as Python reads them."""
    import json

    return json.dumps(_strip_nulls(record), sort_keys=True, ensure_ascii=False)
