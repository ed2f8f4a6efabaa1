"""Where the simulator keeps its files: engine state, logs, generated data, caches.

One folder (default `.sim` in the current directory, or `$SIM_WORKDIR`, or `--workdir`) so that
`sim down` plus `rm -r .sim` leaves nothing behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sim.core.errors import SimError

DEFAULT_NAME = ".sim"


def resolve(workdir: str | os.PathLike | None = None) -> Path:
    """Return the workdir as an absolute path, creating it."""
    raw = workdir or os.environ.get("SIM_WORKDIR") or DEFAULT_NAME
    path = Path(raw).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimError(f"cannot use {path} as the workdir: {exc.strerror}") from None
    return path


def read_json(path: Path) -> dict | None:
    """Read a small JSON state file; None when it does not exist. A file that is not JSON (cut
    short, edited by hand) is one error naming it."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise SimError(f"{path} is not the JSON sim wrote ({exc}); remove it and run again") from None


def write_json(path: Path, data: dict) -> None:
    """Write a small JSON state file atomically (write, then rename)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    tmp.replace(path)
