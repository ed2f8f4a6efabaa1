"""Deployable zips of a described pipeline's code, byte for byte the same for the same sources.

A Lambda's code is a folder (its files at the zip's root, or under the dotted `package` it is
imported as, with an `__init__.py` made for each parent that lacks one) or one .py file at the root.
The Glue converter's extra modules are zipped the same way. Fixed timestamps and sorted entries make
a zip deterministic, so its SHA-256 tells whether the deployed code differs from the tree (a second
`sim deploy` then changes nothing).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import zipfile
from pathlib import Path

from sim.core.errors import SimError
from sim.infra import description

PIPELINE_DIR = Path(__file__).resolve().parent.parent / "pipeline"
_EPOCH = (2020, 1, 1, 0, 0, 0)
_INIT = b'"""Namespace of the deployed pipeline package."""\n'
# Never packaged: caches and version control, whatever the description says.
ALWAYS_EXCLUDED = ("__pycache__", "*.pyc", "*.pyo", ".git", ".hg", ".svn", ".DS_Store", ".venv", "venv",
                   ".pytest_cache", ".mypy_cache")


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip member with a fixed timestamp and mode, so equal content gives equal bytes."""
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _excluded(relative: str, patterns: tuple[str, ...]) -> bool:
    parts = relative.split("/")
    for pattern in ALWAYS_EXCLUDED + tuple(patterns):
        if fnmatch.fnmatch(relative, pattern) or any(fnmatch.fnmatch(p, pattern) for p in parts):
            return True
    return False


def tree_entries(path: Path, package: str = "", exclude: tuple[str, ...] = ()) -> list[tuple[str, bytes]]:
    """(name in the zip, content) of a folder or one .py file, under `package` when given."""
    path = Path(path)
    if path.is_file():
        return [(path.name, path.read_bytes())]
    if not path.is_dir():
        raise SimError(f"{path}: no such folder or file to package")
    root = package.replace(".", "/") + "/" if package else ""
    entries = {}
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        relative = file.relative_to(path).as_posix()
        if not _excluded(relative, exclude):
            entries[root + relative] = file.read_bytes()
    parts = package.split(".") if package else []
    for depth in range(1, len(parts) + 1):  # a parent package without an __init__.py gets one
        init = "/".join(parts[:depth]) + "/__init__.py"
        entries.setdefault(init, _INIT)
    return sorted(entries.items())


def code_entries(code: description.Code) -> list[tuple[str, bytes]]:
    return tree_entries(code.path, code.package, code.exclude)


def module_entries(modules: tuple[description.Module, ...]) -> list[tuple[str, bytes]]:
    """The Glue converter's extra modules, in one zip (`--extra-py-files`)."""
    entries: dict[str, bytes] = {}
    for module in modules:
        package = module.package or ("" if module.path.is_file() else module.path.name)
        for name, data in tree_entries(module.path, package, module.exclude):
            if name in entries and entries[name] != data:
                raise SimError(f"two converter modules hold {name}: {module.path}")
            entries[name] = data
    return sorted(entries.items())


def zip_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in sorted(entries):
            zf.writestr(_entry(name), data)
    return buf.getvalue()


def code_sha256(data: bytes) -> str:
    """The digest the Lambda API reports as CodeSha256 (base64 of SHA-256)."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


# -- sim's own pipeline, as its description packages it ---------------------------------------

def pipeline_entries() -> list[tuple[str, bytes]]:
    """(name in the zip, content) of `sim`'s own builder package: `sim/__init__.py` and `sim/pipeline/**.py`."""
    return code_entries(description.load().builder)


def build_zip() -> bytes:
    """`sim`'s own builder zip (the same files serve its Glue job as --extra-py-files)."""
    return zip_bytes(pipeline_entries())


def glue_script() -> bytes:
    return description.load().converter.script.read_bytes()
