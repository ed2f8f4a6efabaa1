"""Build the deployable zip of `sim/pipeline/`, byte for byte the same for the same sources.

Fixed timestamps and sorted entries make the zip deterministic, so its SHA-256 tells whether the
deployed Lambda code differs from the tree (a second `sim deploy` then changes nothing).
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

PIPELINE_DIR = Path(__file__).resolve().parent.parent / "pipeline"
_EPOCH = (2020, 1, 1, 0, 0, 0)
_INIT = b'"""Namespace of the deployed pipeline package."""\n'


def pipeline_sources() -> list[Path]:
    return sorted(p for p in PIPELINE_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip member with a fixed timestamp and mode, so equal content gives equal bytes."""
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def pipeline_entries() -> list[tuple[str, bytes]]:
    """(name in the zip, content) of every file the pipeline package holds, in zip order."""
    entries = [("sim/__init__.py", _INIT)]
    for path in pipeline_sources():
        entries.append((path.relative_to(PIPELINE_DIR.parent.parent).as_posix(), path.read_bytes()))
    return entries


def build_zip() -> bytes:
    """The Lambda/Glue artifact: `sim/__init__.py` (empty) and `sim/pipeline/**.py`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in pipeline_entries():
            zf.writestr(_entry(name), data)
    return buf.getvalue()


def code_sha256(data: bytes) -> str:
    """The digest the Lambda API reports as CodeSha256 (base64 of SHA-256)."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def glue_script() -> bytes:
    return (PIPELINE_DIR / "glue_entry.py").read_bytes()
