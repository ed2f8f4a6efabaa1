"""The front door first (sim/ops/priority.py): the builder's and the converter's processes lowered,
validation in a thread of its own at its priority, and CPU by part sampled from real processes."""

import csv
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from sim.engine import procs
from sim.ops import priority

pytestmark = pytest.mark.skipif(not procs.available(), reason="needs Linux /proc")

BURN = "import sys, time\nend = time.process_time() + float(sys.argv[1])\nwhile time.process_time() < end: pass\n"


def test_parts_from_command_lines():
    part = priority.engine_child_part
    assert part(["/v/bin/python", "/w/tmp/ministack-lambda-sim-manifest-builder-ab12/_worker.py"],
                "sim-manifest-builder", "sim-converter") == "builder"
    assert part(["/v/bin/python", "/w/glue-bin/python3", "/w/s3/glue_entry.py", "--x", "1"], "b", "c") == "converter"
    assert part(["/v/bin/python", "/w/scripts/glue_entry.py"], "b", "c") == "converter"
    assert part(["/v/bin/python", "/w/tmp/ministack-lambda-other-fn-1/_worker.py"], "b", "c") == "engine"
    assert priority.own_child_part(["/v/bin/python", "-m", "locust", "-f", "x.py"], 0) == "load_generator"
    assert priority.own_child_part(["/v/bin/python", "-c", "from multiprocessing.spawn import spawn_main"], 10) \
        == "validation"
    assert priority.own_child_part(["/v/bin/python", "-c", "pass"], 0) == "harness"


def test_validation_runs_lower_and_what_it_starts_inherits_it_while_the_caller_keeps_its_own():
    def work():
        out = subprocess.run([sys.executable, "-c", "import os; print(os.nice(0))"], capture_output=True, text=True)
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), int(out.stdout)

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    mine, child = priority.at_priority(before + 3, work)
    assert mine == child == before + 3
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
    with pytest.raises(ZeroDivisionError):
        priority.at_priority(before + 3, lambda: 1 / 0)


def test_the_engine_s_builder_and_glue_runs_are_lowered_and_their_cpu_counted(tmp_path):
    worker = tmp_path / "ministack-lambda-fn-builder-x1" / "_worker.py"
    glue = tmp_path / "glue_entry.py"
    worker.parent.mkdir()
    worker.write_text(BURN + "time.sleep(30)\n")
    glue.write_text(BURN)
    engine_code = textwrap.dedent(f"""
        import subprocess, sys, time
        w = subprocess.Popen([sys.executable, {str(worker)!r}, "0.6"])
        time.sleep(1.0)
        subprocess.run([sys.executable, {str(glue)!r}, "1.5"])
        time.sleep(30)
    """)
    engine = subprocess.Popen([sys.executable, "-c", engine_code], start_new_session=True)
    try:
        watch = priority.CpuWatch(engine.pid, "fn-builder", "fn-converter", every_s=0.2).start()
        seen = {}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (watch.totals()["converter"] or 0) >= 1.4:
            for st in procs.all_processes().values():
                if st.ppid == engine.pid:
                    seen[" ".join(procs.cmdline(st.pid))] = st.nice
            time.sleep(0.1)
        cpu = watch.stop()
    finally:
        os.killpg(engine.pid, 9)
        engine.wait()
    assert cpu["builder"] == pytest.approx(0.6, abs=0.25)
    assert cpu["converter"] == pytest.approx(1.5, abs=0.3)  # the run ended: its last moments from the engine's counters
    assert watch.lowered_counts() == {"builder": 1, "converter": 1}
    assert [n for cmd, n in seen.items() if "_worker.py" in cmd][-1] == priority.BUILDER_NICE
    assert set(cpu) == set(priority.PARTS) and cpu["load_generator"] == 0
    # sample by sample: CPU by part and the machine's idle, both only ever growing
    times = [at for at, _, _ in watch.series]
    assert len(times) >= 5 and times == sorted(times)
    assert watch.at(times[0] - 1) == {} and watch.idle_at(times[0] - 1) is None
    assert watch.at(times[-1]) == {p: round(v, 2) for p, v in cpu.items()}
    middle = times[len(times) // 2]
    assert watch.at(middle)["converter"] <= cpu["converter"]
    idles = [watch.idle_at(t) for t in times]
    assert idles[0] == 0 and idles == sorted(idles)
    path = tmp_path / "cpu.csv"
    watch.write_series(path)
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(times) and float(rows[-1]["converter"]) == watch.at(times[-1])["converter"]
    assert float(rows[0]["t"]) == 0 and float(rows[-1]["idle"]) == idles[-1]
