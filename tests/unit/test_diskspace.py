"""A run that the workdir's disk cannot hold is refused before anything lands, with the figures."""

import collections

import pytest

from sim.core.errors import SimError
from sim.ops import diskspace

Usage = collections.namedtuple("Usage", "total used free")
MB = 1024**2


def test_a_load_the_disk_cannot_hold_is_refused_with_what_it_needs_and_what_is_free(monkeypatch, tmp_path):
    monkeypatch.setattr(diskspace.shutil, "disk_usage", lambda _p: Usage(100 * diskspace.GB, 95 * diskspace.GB,
                                                                         5 * diskspace.GB))
    with pytest.raises(SimError) as err:
        diskspace.check(tmp_path, 2637, int(3.5 * MB), "the burst profile")
    message = str(err.value)
    assert "the burst profile lands 2637 files of 3.5 MB (9.0 GB)" in message
    assert "needs about 15.5 GB" in message and "5.0 GB are free" in message and str(tmp_path) in message


def test_a_load_that_fits_says_what_was_checked(monkeypatch, tmp_path):
    monkeypatch.setattr(diskspace.shutil, "disk_usage", lambda _p: Usage(100 * diskspace.GB, 10 * diskspace.GB,
                                                                         90 * diskspace.GB))
    assert diskspace.check(tmp_path, 2637, int(3.5 * MB)) == {"free_gb": 90.0, "needed_gb": 15.5}


def test_the_need_grows_with_what_lands():
    assert diskspace.needed(0, MB) == diskspace.MARGIN_BYTES
    assert diskspace.needed(2000, MB) > diskspace.needed(1000, MB) > diskspace.needed(1000, MB // 2)


def test_an_engine_elsewhere_is_not_checked_here(monkeypatch, tmp_path):
    monkeypatch.setattr(diskspace.shutil, "disk_usage", lambda _p: Usage(100 * diskspace.GB, 100 * diskspace.GB, 0))

    class Project:
        workdir, embedded = tmp_path, False

    assert diskspace.check_run(Project, 1000, MB, "the demo") is None
    Project.embedded = True
    with pytest.raises(SimError, match="the demo lands 1000 files"):
        diskspace.check_run(Project, 1000, MB, "the demo")


def test_a_bench_step_the_disk_cannot_hold_is_refused_before_it_lands_anything(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from sim.load import bench

    monkeypatch.setattr(diskspace.shutil, "disk_usage", lambda _p: Usage(100 * diskspace.GB, 97 * diskspace.GB,
                                                                         3 * diskspace.GB))
    project = SimpleNamespace(workdir=tmp_path, embedded=True)
    settings = SimpleNamespace(batch_size=200)
    step_dir = tmp_path / "step-1-600x"
    with pytest.raises(SimError) as err:
        bench.run_step(project, settings, bench.BenchOptions(file_size=int(3.5 * MB)), 600.0, lambda hold: hold,
                       step_dir)
    assert "the bench step at 600x lands" in str(err.value) and "3.0 GB are free" in str(err.value)
    assert not step_dir.exists()
