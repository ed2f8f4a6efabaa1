"""The locustfile's load shape grows its users from the live p95 and logs every step, driven through
Locust's own RequestStats in a child process (importing locust patches the interpreter with gevent)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

DRIVER = """
import json, sys, types
import locust  # first, as when Locust runs the file: it patches the interpreter with gevent
sys.path.insert(0, {loadtests!r})
import locustfile
from locust.stats import RequestStats

stats = RequestStats()
opts = types.SimpleNamespace(sim_profile="burst", sim_time_scale=144.0, sim_multiplier=600.0, sim_duration=60.0,
                             sim_ramp=0.0, sim_users={fixed}, sim_latency_s=0.24, sim_upload_log={log!r})
runner = types.SimpleNamespace(environment=types.SimpleNamespace(parsed_options=opts), stats=stats, user_count=0)
shape = locustfile.ProfileShape()
shape.runner = runner
ticks = [shape.tick()]  # nothing measured yet: the users the ceiling run's latency asks for
for _ in range(50):
    stats.log_request("PUT", "s3:landing", 1460, 3670016)  # the engine slows to 1.46 s a PUT
ticks.append(shape.tick())
for _ in range(500):
    stats.log_request("PUT", "s3:landing", 9000, 3670016)  # then to 9 s
ticks.append(shape.tick())
print(json.dumps(ticks))
"""


def drive(tmp_path, fixed=0):
    code = DRIVER.format(loadtests=str(ROOT / "loadtests"), log=str(tmp_path), fixed=fixed)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [tuple(t) for t in json.loads(proc.stdout.strip().splitlines()[-1])]


def test_users_grow_from_the_live_latency_up_to_the_cap_and_each_step_is_logged(tmp_path):
    ticks = drive(tmp_path)
    # 55.6 files/s: 60 users at first; 129 for PUTs of 1.46 s (kept by Locust as 1.5 s); the cap
    # (4 s of latency at the peak rate) for 9 s.
    assert ticks == [(60, 60), (129, 129), (227, 227)]
    steps = [json.loads(line) for line in (tmp_path / "users.jsonl").read_text().splitlines()]
    assert [(s["users"], s["at_cap"], s["limit"]) for s in steps] == [(129, False, 227), (227, True, 227)]
    assert steps[0]["p95_ms"] == 1500  # Locust rounds response times to two significant digits


def test_users_fixed_on_the_command_line_never_change(tmp_path):
    assert drive(tmp_path, fixed=40) == [(40, 40)] * 3
    assert not (tmp_path / "users.jsonl").exists()
