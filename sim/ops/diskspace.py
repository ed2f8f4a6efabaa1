"""Enough disk for a run before anything lands (`sim load`, `sim demo`, `sim land`): a run that fills the disk half-way dies of ENOSPC in
whichever process writes next (the engine, Locust, validation), and says nothing useful.

What a run leaves on the workdir's disk, measured: the landed objects (the engine keeps them as
files), the Parquet outputs and the engine's state beside them. A 600x burst of 3.5 MB files
landed 9.7 GB and left 13-14 GB; the daily profile at its defaults left about 32 GB. The data
stays after the run (`sim down` keeps it) until the next run wipes the pipeline's buckets.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sim.core.errors import SimError

GB = 1024**3
KEPT_PER_LANDED_BYTE = 1.5  # landed objects, outputs and engine state per byte landed (1.4 measured)
MARGIN_BYTES = 2 * GB  # logs, validation's scratch files, everything else on that disk


def needed(files: int, file_size: int) -> int:
    return int(files * file_size * KEPT_PER_LANDED_BYTE) + MARGIN_BYTES


def check_run(project, files: int, file_size: int, what: str) -> dict | None:
    """`check` on the project's workdir when the embedded engine keeps the data there; None for an
    engine elsewhere (its disk is not this one)."""
    if not project.embedded:
        return None
    return check(project.workdir, files, file_size, what)


def check(workdir: Path, files: int, file_size: int, what: str = "the load") -> dict:
    """Raise a SimError naming the shortfall when the workdir's disk cannot hold the run; else
    what was checked (for the report)."""
    free = shutil.disk_usage(workdir).free
    need = needed(files, file_size)
    if free < need:
        raise SimError(
            f"{what} lands {files} files of {file_size / 1024**2:.1f} MB ({files * file_size / GB:.1f} GB); with its "
            f"outputs and the engine's state it needs about {need / GB:.1f} GB on the disk of {workdir}, and "
            f"{free / GB:.1f} GB are free. Free space there (earlier runs' data stays until the next run wipes it: "
            f"`sim down`, then remove {workdir}), or land less (--multiplier, --duration, --file-size)")
    return {"free_gb": round(free / GB, 1), "needed_gb": round(need / GB, 1)}
