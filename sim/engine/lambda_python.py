"""A Python of the Lambda runtime's version (python3.11), for rehearsing that runtime on MiniStack.

MiniStack runs a Python Lambda with its own interpreter, and the LocalStack wiring's converter
carries cp311 wheels (pyarrow built for the python3.11 runtime). So an engine that runs that wiring
must itself run on Python 3.11, whatever Python the harness runs on (3.11 to 3.13):
- the harness's own interpreter when it is 3.11;
- else `$SIM_PYTHON311` or `python3.11` on PATH, with MiniStack and boto3 installed at the harness's
  pinned versions into a venv under the cache (made once, about half a minute);
- else nothing: callers say why they cannot run (`missing_reason`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from sim.core.errors import SimError
from sim.engine.profiles import LAMBDA_RUNTIME

VERSION = tuple(int(p) for p in LAMBDA_RUNTIME.removeprefix("python").split("."))  # (3, 11)
LABEL = ".".join(map(str, VERSION))
ENV_VAR = "SIM_PYTHON" + LABEL.replace(".", "")  # SIM_PYTHON311
ENGINE_PACKAGES = ("ministack", "boto3")


def _version_of(python: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return tuple(int(p) for p in out.stdout.strip().split("."))


def interpreter() -> str | None:
    """A Python of the runtime's version: this one, `$SIM_PYTHON311`, or `python3.11` on PATH."""
    if sys.version_info[:2] == VERSION:
        return sys.executable
    for candidate in (os.environ.get(ENV_VAR), shutil.which(f"python{LABEL}")):
        if candidate and _version_of(candidate) == VERSION:
            return candidate
    return None


def missing_reason() -> str:
    return (f"needs Python {LABEL} (the {LAMBDA_RUNTIME} Lambda runtime: MiniStack runs Lambdas with its own "
            f"Python, and the LocalStack wiring's converter carries cp{LABEL.replace('.', '')} wheels); this is "
            f"Python {sys.version_info[0]}.{sys.version_info[1]} and no python{LABEL} was found (set {ENV_VAR})")


def _pins() -> list[str]:
    """The engine's packages and everything they need, at the versions this harness has installed."""
    seen: dict[str, str] = {}
    todo = list(ENGINE_PACKAGES)
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            seen[key] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # needed only on another Python (a marker); pip resolves it there
        for req in metadata.requires(name) or []:
            if "extra ==" not in req.partition(";")[2]:
                todo.append(re.match(r"[A-Za-z0-9._-]+", req).group(0))
    return sorted(f"{k}=={v}" for k, v in seen.items())


def engine_python(cache_dir: Path) -> str:
    """An interpreter of the runtime's version that can run MiniStack, or a SimError saying why not."""
    if sys.version_info[:2] == VERSION:
        return sys.executable
    base = interpreter()
    if base is None:
        raise SimError(missing_reason())
    pins = _pins()
    digest = hashlib.sha256(json.dumps([os.path.realpath(base), pins]).encode()).hexdigest()[:12]
    root = Path(cache_dir) / "engine-python" / f"py{LABEL.replace('.', '')}-{digest}"
    python = root / "bin" / "python"
    done = root / ".complete"
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one maker at a time; the others then find it done
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)
            steps = [[base, "-m", "venv", str(root)],
                     [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins]]
            for cmd in steps:
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                    raise SimError(f"cannot make a Python {LABEL} environment for the engine at {root}: {last}")
            done.write_text("\n".join(pins) + "\n")
    return str(python)
