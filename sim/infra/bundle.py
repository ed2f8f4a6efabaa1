"""A Lambda's package with its `requirements` installed into it, as binary wheels for the Lambda platform.

A description's builder or converter Lambda may name a requirements.txt: the runtime has boto3 and
little else, so the zip carries them. Why a bigger zip and not a layer: LocalStack's free edition
accepts layers but does not apply them when a function runs, while a zip's contents are always on
the path (/var/task). `sim`'s own converter Lambda (for targets without Glue) carries pyarrow this way.

The wheels are pinned and binary-only for the Lambda platform. The `python3.11` runtime runs on
Amazon Linux 2 (glibc 2.26), so they must be manylinux2014 (glibc 2.17); pyarrow stopped shipping
those after 20.0.0 (26.0.1, pinned for the rest of the project, is manylinux_2_28 only), so `sim`'s
converter Lambda runs pyarrow 20.0.0 (sim/pipeline/lambda-requirements.txt). The converter's unit
tests pass against it (tests/packaging/test_layer_converter_bundle.py).

Built once per content under the cache folder (wheels and zip), byte for byte the same for the same
sources and wheels, so a second deploy sees the same CodeSha256 and changes nothing.

    python -m sim.infra.bundle [--cache-dir DIR] [--json]    build it now (the Docker image does)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from sim.core.errors import SimError
from sim.engine.profiles import LAMBDA_RUNTIME
from sim.infra import description, package

PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = LAMBDA_RUNTIME.removeprefix("python")  # "3.11"
ABI = "cp" + PYTHON_VERSION.replace(".", "")


def read_requirements(path: Path) -> tuple[str, ...]:
    """The requirement lines of a requirements.txt (comments and blank lines dropped). Options such
    as `-r` or `--index-url` are refused: the bundle is built from pinned wheels only."""
    out = []
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise SimError(f"{path}, line {number}: options ({line.split()[0]}) are not supported; list pinned "
                           "requirements only")
        out.append(line)
    return tuple(out)


def _own_dependencies() -> tuple[str, ...]:
    lam = description.load().converter.lambda_
    return read_requirements(lam.requirements) if lam and lam.requirements else ()


DEPENDENCIES = _own_dependencies()  # sim's own converter Lambda: pyarrow==20.0.0
# Lambda's quota on code plus layers, unzipped (the bundle is uploaded through S3, so the API call's own limit never applies).
UNZIPPED_LIMIT_BYTES = 262_144_000
# Not needed at run time: C++ headers and sources, Cython sources, the wheels' own test suites.
_TRIM_DIRS = ("pyarrow/include/", "pyarrow/src/", "pyarrow/tests/")
_TRIM_SUFFIXES = (".pyx", ".pxd", ".pxi", ".h", ".hpp")
_FORMAT = "1"  # bump when the layout or trimming changes, so cached zips are rebuilt


@dataclass
class Bundle:
    path: Path
    sha256: str  # base64, as Lambda reports CodeSha256
    zipped_bytes: int
    unzipped_bytes: int
    dependencies: tuple[str, ...]


def _trimmed(name: str) -> bool:
    return name.startswith(_TRIM_DIRS) or name.endswith(_TRIM_SUFFIXES) or "/__pycache__/" in name


def _deps_key(dependencies: tuple[str, ...]) -> str:
    raw = json.dumps([list(dependencies), PLATFORM, PYTHON_VERSION, ABI])
    return f"{PLATFORM}-{ABI}-{hashlib.sha256(raw.encode()).hexdigest()[:12]}"


def wheels(cache_dir: Path, dependencies: tuple[str, ...] = DEPENDENCIES) -> list[Path]:
    """The pinned wheels for the Lambda platform, downloaded once into the cache."""
    if not dependencies:
        return []
    folder = Path(cache_dir) / "wheels" / _deps_key(dependencies)
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=folder.parent))
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--only-binary=:all:", "--platform", PLATFORM, "--python-version", PYTHON_VERSION,
               "--implementation", "cp", "--abi", ABI, "--dest", str(tmp), *dependencies]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise SimError(f"cannot download wheels for the Lambda platform ({', '.join(dependencies)}): {last}")
        try:
            tmp.rename(folder)
        except OSError:  # another process finished first: use its copy
            shutil.rmtree(tmp, ignore_errors=True)
    found = sorted(folder.glob("*.whl"))
    if not found:
        raise SimError(f"no wheels in {folder}; delete it and deploy again")
    return found


def _content_key(entries: list[tuple[str, bytes]], wheel_files: list[Path]) -> str:
    h = hashlib.sha256(_FORMAT.encode())
    for name, data in entries:
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    for whl in wheel_files:
        h.update(whl.name.encode() + b"\0" + hashlib.sha256(whl.read_bytes()).digest())
    return h.hexdigest()[:16]


def build(cache_dir: Path, entries: list[tuple[str, bytes]] | None = None,
          dependencies: tuple[str, ...] | None = None) -> Bundle:
    """A Lambda zip: the code's entries plus its dependencies' files, within Lambda's limits.
    Default: `sim`'s own converter Lambda (its package and pyarrow)."""
    cache_dir = Path(cache_dir)
    dependencies = DEPENDENCIES if dependencies is None else tuple(dependencies)
    wheel_files = wheels(cache_dir, dependencies)
    entries = package.pipeline_entries() if entries is None else entries
    out = cache_dir / "lambda" / f"bundle-{_content_key(entries, wheel_files)}.zip"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".converter-", suffix=".zip", dir=out.parent)
        os.close(fd)
        try:
            _write(Path(tmp_name), entries, wheel_files)
            os.replace(tmp_name, out)
        finally:
            Path(tmp_name).unlink(missing_ok=True)
    return describe(out, dependencies)


def _write(path: Path, entries: list[tuple[str, bytes]], wheel_files: list[Path]) -> None:
    members: dict[str, tuple[Path | None, bytes | None]] = {name: (None, data) for name, data in entries}
    for whl in wheel_files:
        with zipfile.ZipFile(whl) as zf:
            for info in zf.infolist():
                if info.is_dir() or _trimmed(info.filename):
                    continue
                if info.filename in members:
                    raise SimError(f"{whl.name} and the function's own code both hold {info.filename}")
                members[info.filename] = (whl, None)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        open_wheels: dict[Path, zipfile.ZipFile] = {}
        try:
            for name in sorted(members):
                whl, data = members[name]
                if data is None:
                    if whl not in open_wheels:
                        open_wheels[whl] = zipfile.ZipFile(whl)
                    data = open_wheels[whl].read(name)
                out.writestr(package._entry(name), data)
        finally:
            for zf in open_wheels.values():
                zf.close()


def describe(path: Path, dependencies: tuple[str, ...] = DEPENDENCIES) -> Bundle:
    """Sizes and digest of a built bundle; a bundle over Lambda's unzipped limit is refused."""
    data = Path(path).read_bytes()
    with zipfile.ZipFile(path) as zf:
        unzipped = sum(i.file_size for i in zf.infolist())
    if unzipped > UNZIPPED_LIMIT_BYTES:
        raise SimError(f"the Lambda bundle unzips to {unzipped} bytes, over Lambda's {UNZIPPED_LIMIT_BYTES}")
    return Bundle(Path(path), base64.b64encode(hashlib.sha256(data).digest()).decode(), len(data), unzipped,
                  tuple(dependencies))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.infra.bundle", description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default=None, help="default: <workdir>/cache")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from sim.core import workdir as wd

    cache = Path(args.cache_dir) if args.cache_dir else wd.resolve(None) / "cache"
    try:
        b = build(cache)
    except SimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    info = {**asdict(b), "path": str(b.path), "unzipped_limit_bytes": UNZIPPED_LIMIT_BYTES}
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(f"{b.path}: {b.zipped_bytes / 1e6:.1f} MB zipped, {b.unzipped_bytes / 1e6:.1f} MB unzipped "
              f"(limit {UNZIPPED_LIMIT_BYTES / 1e6:.0f} MB); {', '.join(b.dependencies)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
