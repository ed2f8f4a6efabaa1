"""CPU by part from samples (sim/engine/cpu.py) and the /proc lines they come from (procs.py)."""

import os

import pytest

from sim.engine import cpu, procs

ENGINE, GLUE, LAMBDA, QUICK = (1, 1), (2, 5), (3, 5), (4, 9)


def s(part, parent, used, reaped=0.0):
    return cpu.Sample(part, parent, used, reaped)


def test_a_process_seen_while_it_runs_counts_what_it_used_since_the_first_sample():
    t = cpu.Tally()
    t.update({ENGINE: s("engine", None, 10.0), LAMBDA: s("builder", ENGINE, 4.0)}, first=True)
    t.update({ENGINE: s("engine", None, 12.5), LAMBDA: s("builder", ENGINE, 5.0)})
    assert t.totals() == pytest.approx({"engine": 2.5, "builder": 1.0})


def test_the_cpu_a_child_used_after_its_last_sample_comes_back_from_its_parents_counters():
    t = cpu.Tally()
    t.update({ENGINE: s("engine", None, 0.0), LAMBDA: s("builder", ENGINE, 0.0)}, first=True)
    t.update({ENGINE: s("engine", None, 1.0), LAMBDA: s("builder", ENGINE, 0.5), GLUE: s("converter", ENGINE, 3.0)})
    # The Glue run ended having used 4.2 s; the engine reaped it: its children counters grew by 4.2.
    t.update({ENGINE: s("engine", None, 2.0, 4.2), LAMBDA: s("builder", ENGINE, 1.0)})
    assert t.totals() == pytest.approx({"engine": 2.0, "builder": 1.0, "converter": 4.2})


def test_a_child_never_seen_goes_to_its_parents_part():
    t = cpu.Tally()
    t.update({ENGINE: s("engine", None, 0.0)}, first=True)
    t.update({ENGINE: s("engine", None, 1.0, 0.7)})  # something started and ended between samples
    assert t.totals() == pytest.approx({"engine": 1.7})


def test_what_several_vanished_children_used_unseen_is_shared_by_what_each_was_seen_using():
    t = cpu.Tally()
    t.update({ENGINE: s("engine", None, 0.0), GLUE: s("converter", ENGINE, 3.0), LAMBDA: s("builder", ENGINE, 1.0)},
             first=True)
    t.update({ENGINE: s("engine", None, 0.0), GLUE: s("converter", ENGINE, 6.0), LAMBDA: s("builder", ENGINE, 2.0)})
    t.update({ENGINE: s("engine", None, 0.0, 10.0)})  # both reaped: 10 s in all, 8 seen
    assert t.totals() == pytest.approx({"engine": 0.0, "converter": 3.0 + 1.5, "builder": 1.0 + 0.5})


def test_a_stat_line_with_spaces_and_parentheses_in_the_name():
    line = ("4242 (python3 (x) y) S 17 4242 4242 0 -1 4194560 1 0 0 0 250 50 30 20 30 10 8 0 123456 "
            "1000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0")
    st = procs.parse_stat(line)
    assert (st.pid, st.ppid, st.start, st.nice) == (4242, 17, 123456, 10)
    assert st.cpu_s == pytest.approx(300 * procs.TICK_S) and st.children_cpu_s == pytest.approx(50 * procs.TICK_S)


@pytest.mark.skipif(not procs.available(), reason="needs /proc")
def test_this_process_reads_back_as_itself():
    me = procs.read(procs.PROC / "self" / "stat")
    assert me.pid == os.getpid() and me.ppid == os.getppid() and me.nice == os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpid() in procs.all_processes()
