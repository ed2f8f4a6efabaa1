"""`./dev` picks the Python it makes .venv with: 3.11 to 3.13, 3.11 when present, and says which.

Interpreters are stand-ins (shell scripts answering a version) on a PATH holding nothing else, and
`./dev python` reports the choice without creating an environment. Real interpreters other than
this one are tried when the machine has them.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASH = shutil.which("bash")


@pytest.fixture
def project(tmp_path):
    """A copy of ./dev in a folder of its own (no .venv), and a bin/ folder for stand-ins."""
    (tmp_path / "proj").mkdir()
    shutil.copy(ROOT / "dev", tmp_path / "proj" / "dev")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(shutil.which("dirname"), bin_dir / "dirname")
    return tmp_path


def fake(folder: Path, name: str, version: str | None) -> Path:
    """An interpreter that says it is `version` (X.Y.Z); None: one that fails like a pyenv shim for a missing version."""
    path = folder / name
    if version is None:
        path.write_text(f'#!/bin/sh\necho "pyenv: {name}: command not found" >&2\nexit 127\n')
    else:
        xy = ".".join(version.split(".")[:2])
        path.write_text("#!/bin/sh\n"
                        f'case "$2" in *version_info*) echo {xy} ;; *) echo {version} ;; esac\n')
    path.chmod(0o755)
    return path


def dev_python(project: Path, **env):
    run_env = {"PATH": str(project / "bin"), **env}
    return subprocess.run([BASH, str(project / "proj" / "dev"), "python"], capture_output=True, text=True,
                          env=run_env)


def chosen(proc) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_prefers_311_over_newer_ones(project):
    b = project / "bin"
    fake(b, "python3.13", "3.13.0"), fake(b, "python3.12", "3.12.1"), fake(b, "python3", "3.12.1")
    fake(b, "python3.11", "3.11.2")
    assert chosen(dev_python(project)) == f"Python 3.11.2 ({b / 'python3.11'})"


def test_a_python3_that_is_311_wins_over_python312(project):
    b = project / "bin"
    fake(b, "python3", "3.11.9"), fake(b, "python3.12", "3.12.1")
    assert chosen(dev_python(project)) == f"Python 3.11.9 ({b / 'python3'})"


def test_without_311_the_oldest_supported_one(project):
    b = project / "bin"
    fake(b, "python3.13", "3.13.0"), fake(b, "python3.12", "3.12.4"), fake(b, "python3", "3.13.0")
    assert chosen(dev_python(project)) == f"Python 3.12.4 ({b / 'python3.12'})"


def test_an_interpreter_that_does_not_run_is_passed_over(project):
    b = project / "bin"
    fake(b, "python3.11", None), fake(b, "python3.12", None), fake(b, "python3.13", "3.13.1")
    assert chosen(dev_python(project)) == f"Python 3.13.1 ({b / 'python3.13'})"


def test_a_name_that_lies_about_its_version_is_judged_by_its_answer(project):
    b = project / "bin"
    fake(b, "python3.11", "3.10.4"), fake(b, "python3", "3.10.4")
    proc = dev_python(project)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip() == ("error: Python 3.11, 3.12 or 3.13 is required (none found on PATH; "
                                   "set PYTHON=/path/to/python3.X)")


@pytest.mark.parametrize("version,ok", [("3.10.13", False), ("3.11.2", True), ("3.13.0", True), ("3.14.0", False)])
def test_PYTHON_picks_one_within_the_range(project, version, ok):
    fake(project / "bin", "python3.11", "3.11.2")
    py = fake(project, "chosen-python", version)
    proc = dev_python(project, PYTHON=str(py))
    if ok:
        assert chosen(proc) == f"Python {version} ({py})"
    else:
        assert proc.returncode == 1
        assert proc.stderr.strip() == (f"error: PYTHON={py} is Python {version.rsplit('.', 1)[0]}; "
                                       "supported: 3.11, 3.12, 3.13")


def test_an_existing_venv_keeps_its_python_and_an_unsupported_one_is_refused(project):
    venv_bin = project / "proj" / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    fake(project / "bin", "python3.11", "3.11.2")
    fake(venv_bin, "python", "3.12.1")
    proc = dev_python(project, PYTHON=str(fake(project, "other", "3.13.0")))
    assert chosen(proc) == "Python 3.12.1 (.venv/bin/python)"
    assert "PYTHON=" in proc.stderr and "not used" in proc.stderr
    fake(venv_bin, "python", "3.10.1")
    proc = dev_python(project)
    assert proc.returncode == 1 and "remove .venv" in proc.stderr


def _real(version: str) -> str | None:
    """An interpreter of this version on the machine (pyenv's or on PATH), if it really runs."""
    candidates = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python")) + [
        Path(p) for p in [shutil.which(f"python{version}")] if p]
    for c in candidates:
        out = subprocess.run([str(c), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip() == version:
            return str(c)
    return None


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_real_interpreters_are_accepted(project, version):
    py = _real(version)
    if py is None:
        pytest.skip(f"no Python {version} on this machine")
    out = chosen(dev_python(project, PYTHON=py))
    assert re.fullmatch(rf"Python {re.escape(version)}\.\d+ \({re.escape(py)}\)", out), out


def test_pyproject_accepts_what_dev_accepts():
    requires = re.search(r'^requires-python = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    supported = re.search(r'^SUPPORTED="(.+)"$', (ROOT / "dev").read_text(), re.M).group(1).split()
    low, high = re.fullmatch(r">=(3\.\d+),<(3\.\d+)", requires).groups()
    minor = lambda v: int(v.split(".")[1])  # noqa: E731
    assert [f"3.{m}" for m in range(minor(low), minor(high))] == supported
    assert sys.version_info[:2] >= (3, minor(low))  # and the tests run on one of them
