"""The user's own files for `sim land`: which of them land, under which keys, and which do not.

A path is a file or a folder (walked recursively, hidden entries included, symlinks followed). A
file lands when its name has a landing suffix (`.ndjson`, `.jsonl`, `.json`, optionally `.gz`),
under `<prefix>/<date>/<its path relative to the folder given>` (a file given directly: its name).
Files with other names are not landed and are listed with the reason; landed files whose first
line the pipeline would quarantine are listed too, so nothing is skipped or doubted silently. The
first line is found and judged as the converter finds and judges it (`sim.pipeline.lines`: a byte
order mark at the start, blank lines, CRLF; `records.line_problem`: the converter's own exact parse).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sim.core.errors import SimError
from sim.pipeline.events import is_landing_key
from sim.pipeline.gz import GunzipReader
from sim.pipeline.lines import BLANK, first_line
from sim.pipeline.records import line_problem

SNIFF_BYTES = 64 * 1024


@dataclass
class LocalFile:
    path: Path
    key: str
    size: int


@dataclass
class Selection:
    files: list[LocalFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): not landed
    doubtful: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): landed, looks wrong

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)


def select(paths: list[str], prefix: str, date: str) -> Selection:
    if not paths:
        raise SimError("give at least one file or folder to land")
    chosen = Selection()
    keys: dict[str, Path] = {}
    for raw in paths:
        root = Path(raw).expanduser()
        if not root.exists():
            raise SimError(f"no such file or folder: {raw}")
        for path, relative in _walk(root):
            if not is_landing_key(path.name):
                chosen.skipped.append((str(path), "not a landing name (.ndjson, .jsonl, .json, optionally .gz)"))
                continue
            key = f"{prefix.strip('/')}/{date}/{relative}" if prefix.strip("/") else f"{date}/{relative}"
            if key in keys:
                raise SimError(f"{path} and {keys[key]} would both land as {key}; land them separately")
            keys[key] = path
            chosen.files.append(LocalFile(path, key, path.stat().st_size))
            doubt = sniff(path)
            if doubt:
                chosen.doubtful.append((str(path), doubt))
    if not chosen.files:
        raise SimError(f"nothing to land: no .ndjson, .jsonl or .json files (optionally .gz) in {', '.join(paths)}")
    chosen.files.sort(key=lambda f: f.key)
    return chosen


def _walk(root: Path):
    if root.is_file():
        yield root, root.name
        return
    for folder, dirs, names in os.walk(root, followlinks=True):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_file():
                yield path, path.relative_to(root).as_posix()


def sniff(path: Path) -> str:
    """Why the file does not look like NDJSON, from its first non-blank line ("" when it does)."""
    try:
        with open(path, "rb") as fh:
            stream = GunzipReader(fh, max_bytes=SNIFF_BYTES + 1) if path.name.lower().endswith(".gz") else fh
            head = stream.read(SNIFF_BYTES)
            whole = not stream.read(1) and not getattr(stream, "problem", "")  # a broken .gz: its last line may be cut
            if getattr(stream, "problem", "").startswith("not gzip"):
                return "named .gz but not gzip data: the pipeline quarantines it whole"
    except OSError as exc:
        raise SimError(f"cannot read {path}: {exc.strerror}") from None
    found = first_line(head, whole)
    if found is None:
        return ""
    number, line, complete = found
    if complete:
        why = line_problem(line)
    else:  # a first line longer than the sniff: judge its start
        why = "" if line.lstrip(BLANK).startswith(b"{") else "not a JSON object"
    return f"its first line (line {number}) is quarantined by the pipeline: {why}" if why else ""
