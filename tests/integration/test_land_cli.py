"""`sim land` as a user runs it: a folder of their own files in, a verdict out."""

import gzip
import json
import subprocess
import sys

from sim.core import contract


def sim(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, timeout=600, cwd=cwd)


def test_land_a_folder_and_validate_it(engine, tmp_path):
    data = tmp_path / "exports"
    (data / "sub").mkdir(parents=True)
    (data / "a.ndjson").write_bytes(b'{"id":1,"v":9007199254740993}\n{"id":2,"v":1.5,"meta":{}}\n')
    (data / "sub" / "b.jsonl.gz").write_bytes(gzip.compress(b'{"t":"2024-01-01T12:00:00+02:00"}\n'))
    (data / "sub" / "array.json").write_bytes(b"[1, 2]\n")  # lands; its line is quarantined
    (data / "notes.txt").write_text("not data")  # not a landing name: listed, not landed
    got = sim("land", str(data), "--date", "2026-11-22", "--prefix", "mine", "--workdir", str(engine), "--json")
    assert got.returncode == 0, got.stderr[-2000:]
    result = json.loads(got.stdout)
    assert result["pass"] and result["files"] == 3
    assert contract.problems(result, contract.Land) == []
    assert set(result["keys"].values()) == {"mine/2026-11-22/a.ndjson", "mine/2026-11-22/sub/b.jsonl.gz",
                                            "mine/2026-11-22/sub/array.json"}
    assert [s["path"].endswith("notes.txt") for s in result["skipped"]] == [True]
    assert [d["path"].endswith("array.json") for d in result["not_ndjson"]] == [True]
    v = result["validation"]
    assert (v["records_in"], v["records_out"], v["quarantined"], v["altered"]) == (4, 3, 1, 0)


def test_land_refuses_a_missing_path_and_colliding_keys_before_landing_anything(engine, tmp_path):
    got = sim("land", str(tmp_path / "nowhere"), "--workdir", str(engine))
    assert got.returncode == 1 and got.stderr.strip().splitlines() == [f"error: no such file or folder: {tmp_path / 'nowhere'}"]
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "x.ndjson").write_bytes(b"{}\n")
    (two / "x.ndjson").write_bytes(b"{}\n")
    got = sim("land", str(one), str(two), "--workdir", str(engine), "--json")
    assert got.returncode == 1 and "would both land as" in json.loads(got.stdout)["error"]
    got = sim("land", str(tmp_path / "one" / "x.ndjson"), "--date", "yesterday", "--workdir", str(engine))
    assert got.returncode == 1 and "--date must be a date" in got.stderr
