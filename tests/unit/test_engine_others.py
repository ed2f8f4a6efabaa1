"""Other engines left running are found (sim warns about them: they take CPU from the run), and an
engine is told apart by its command line and the workdir it runs in."""

import subprocess
import sys
import time

import pytest

from sim.engine import ministack, procs


@pytest.mark.skipif(not procs.available(), reason="needs /proc")
def test_an_engine_running_in_another_workdir_is_found_and_this_ones_is_not(tmp_path):
    fake = tmp_path / "lib" / "ministack"  # a stand-in answering to `python -m ministack`
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text("import time\ntime.sleep(60)\n")
    other, mine = tmp_path / "other", tmp_path / "mine"
    other.mkdir()
    mine.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "ministack"], cwd=other, env={"PYTHONPATH": str(tmp_path / "lib")})
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and procs.cmdline(proc.pid)[1:3] != ["-m", "ministack"]:
            time.sleep(0.05)
        assert (proc.pid, str(other)) in ministack.others(mine)
        assert proc.pid not in [pid for pid, _ in ministack.others(other)]
    finally:
        proc.kill()
        proc.wait()
    assert proc.pid not in [pid for pid, _ in ministack.others(mine)]
