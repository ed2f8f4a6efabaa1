"""Locust: production-shaped NDJSON uploads into the pipeline's landing bucket.

    locust -f loadtests/locustfile.py --headless --host http://127.0.0.1:4566 \
        --sim-profile burst --sim-multiplier 600 --sim-duration 60 --sim-file-size 64KB
    locust -f loadtests/locustfile.py --headless --processes 4 --sim-profile daily --sim-time-scale 144
    locust -f loadtests/locustfile.py --master --expect-workers 2 ...   # and on each worker machine:
    locust -f loadtests/locustfile.py --worker --master-host HOST

Every option is also an environment variable (SIM_LOAD_PROFILE, SIM_LOAD_MULTIPLIER, ...; see
`--help`). `--host` is the engine's endpoint; leave it empty to use AWS with the credentials in
the environment. `sim load` runs this file headless and reads what it writes.

How it paces: the shape (daily, burst, or ceiling = as fast as possible) is an arrival schedule;
upload k is due at a fixed time and goes under a key made from k (see sim/load/pacing.py), so the
users only provide concurrency and the rate follows the curve whatever the latency. The load shape
class below keeps enough users running (sized from the upload latency as the run goes, see
sim/load/users.py) and ends the run when the schedule is over. Bodies come
from a bounded pool generated before the first upload (sim/load/payloads.py), and every process
shares one boto3 client: clients created per user stall gevent's loop for seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import time

import boto3
import gevent
from botocore.config import Config
from locust import LoadTestShape, User, constant, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from sim.load import shapes, users
from sim.load.pacing import DEFAULT_GRACE_S, Pacer
from sim.load.payloads import DEFAULT_POOL_BYTES, DEFAULT_POOL_FILES, PayloadPool, UploadLog
from sim.workload.sizes import parse_size

log = logging.getLogger("sim.load")
END_SLACK_S = 30.0  # after the last slot may start: the most the shape waits for in-flight uploads
REQUEST_TYPE = "PUT"
REQUEST_NAME = "s3:landing"


@events.init_command_line_parser.add_listener
def _options(parser):
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    add = parser.add_argument
    add("--sim-profile", choices=shapes.PROFILES, default="burst", env_var="SIM_LOAD_PROFILE",
        help="daily (8,000 files/day, compressed), burst (multiplier x production), ceiling (as fast as possible)")
    add("--sim-time-scale", type=float, default=144.0, env_var="SIM_LOAD_TIME_SCALE",
        help="daily: how much faster than real time (144 plays a day in 10 minutes)")
    add("--sim-multiplier", type=float, default=600.0, env_var="SIM_LOAD_MULTIPLIER",
        help="burst: multiple of the average production rate (8000/86400 files/s)")
    add("--sim-duration", type=float, default=60.0, env_var="SIM_LOAD_DURATION",
        help="burst: seconds of hold after the ramp; ceiling: seconds of the run")
    add("--sim-ramp", type=float, default=-1.0, env_var="SIM_LOAD_RAMP",
        help="burst: seconds of linear ramp before the hold (default: a sixth of the hold, 1-10 s)")
    add("--sim-file-size", default="3.5MB", env_var="SIM_LOAD_FILE_SIZE", help="size of each file, e.g. 64KB, 3.5MB")
    add("--sim-bucket", default="sim-ingest-landing", env_var="SIM_LOAD_BUCKET", help="the landing bucket")
    add("--sim-prefix", default="incoming", env_var="SIM_LOAD_PREFIX", help="first segment of every key")
    add("--sim-date-prefix", default=today, env_var="SIM_LOAD_DATE_PREFIX", help="the YYYY-MM-DD segment of every key")
    add("--sim-seed", type=int, default=7, env_var="SIM_LOAD_SEED", help="generator seed")
    add("--sim-users", type=int, default=0, env_var="SIM_LOAD_USERS",
        help="concurrent users in all, fixed (default: sized from the upload latency as the run goes)")
    add("--sim-latency-s", type=float, default=0.0, env_var="SIM_LOAD_LATENCY_S",
        help="upload latency (p95 seconds) measured before the run: the first user count's basis")
    add("--sim-pool-files", type=int, default=DEFAULT_POOL_FILES, env_var="SIM_LOAD_POOL_FILES",
        help="distinct bodies generated before the run (memory stays bounded)")
    add("--sim-pool-mb", type=float, default=DEFAULT_POOL_BYTES / 2**20, env_var="SIM_LOAD_POOL_MB",
        help="memory cap of the body pool per process, MB")
    add("--sim-upload-log", default="", env_var="SIM_LOAD_UPLOAD_LOG",
        help="folder for per-process upload logs (JSON lines; `sim load` reads them)")


def shape_of(opts) -> shapes.Shape:
    return shapes.make(opts.sim_profile, time_scale=opts.sim_time_scale, multiplier=opts.sim_multiplier,
                       duration_s=opts.sim_duration, ramp_s=None if opts.sim_ramp < 0 else opts.sim_ramp)


CEILING_USERS = 16


def sizer_for(opts, shape: shapes.Shape) -> users.Sizer:
    """The user count: fixed by --sim-users, 16 for the closed-loop ceiling, else sized from the
    upload latency (sim/load/users.py); idle users only sleep."""
    fixed = opts.sim_users if opts.sim_users > 0 else (CEILING_USERS if shape.name == "ceiling" else 0)
    return users.Sizer(peak_rate=shape.peak_files_per_s, latency_s=opts.sim_latency_s or None, fixed=fixed)


def users_for(opts, shape: shapes.Shape) -> int:
    """The users a run starts with."""
    return sizer_for(opts, shape).users


class _Process:
    """This process's share of the run: created at test start, shared by all its users."""

    def __init__(self, environment):
        opts = environment.parsed_options
        runner = environment.runner
        index, count = 0, 1
        if isinstance(runner, WorkerRunner):
            index, count = max(runner.worker_index, 0), max(int(getattr(opts, "expect_workers", 1) or 1), 1)
        self.shape = shape_of(opts)
        size = parse_size(opts.sim_file_size)
        sizer = sizer_for(opts, self.shape)
        users = sizer.users
        t0 = time.monotonic()
        self.pool = PayloadPool(opts.sim_seed, size, opts.sim_date_prefix, opts.sim_prefix,
                                max_files=opts.sim_pool_files, max_bytes=int(opts.sim_pool_mb * 2**20))
        log.info("payload pool: %d bodies, %.1f MB, made in %.2f s", len(self.pool), self.pool.bytes / 2**20,
                 time.monotonic() - t0)
        self.bucket = opts.sim_bucket
        endpoint = environment.host or os.environ.get("SIM_ENDPOINT") or None
        # Sized for the most users the run may grow to: a connection is made only when used.
        self.s3 = _client(endpoint, max_pool=math.ceil(sizer.limit / count) + 4)
        self.log = None
        if opts.sim_upload_log:
            self.log = UploadLog(os.path.join(opts.sim_upload_log, f"uploads-{index}-{os.getpid()}.jsonl"))
        self.pacer = Pacer(self.shape, time.time(), index, count, grace_s=DEFAULT_GRACE_S)
        if self.log is not None:
            self.log.header(self.pacer.started_at, worker=index, workers=count, pid=os.getpid(), users=users,
                            users_limit=sizer.limit, pool_files=len(self.pool), **self.shape.describe())


def _client(endpoint: str | None, max_pool: int):
    config = Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=max_pool,
                    connect_timeout=5, read_timeout=120, s3={"addressing_style": "path"})
    if not endpoint:
        return boto3.client("s3", config=config)
    return boto3.client(
        "s3", endpoint_url=endpoint, config=config,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("SIM_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("SIM_SECRET_ACCESS_KEY", "test"),
    )


_run: _Process | None = None


@events.test_start.add_listener
def _start(environment, **_):
    global _run
    if isinstance(environment.runner, MasterRunner):
        return  # the master only runs the shape; workers upload
    _run = _Process(environment)


@events.test_stop.add_listener
def _stop(environment, **_):
    if _run is not None and _run.log is not None:
        _run.log.close()
        _run.log = None


class LandingUpload(User):
    """Takes the next due slot of the schedule, waits for its time, and PUTs one NDJSON file."""

    wait_time = constant(0)

    @task
    def upload(self):
        run = _run
        slot = run.pacer.take(time.time()) if run else None
        if slot is None:
            raise StopUser()
        delay = slot.due_at - time.time()
        if delay > 0:
            gevent.sleep(delay)
        payload = run.pool.for_slot(slot.index)
        started, t0 = time.time(), time.perf_counter()
        error = None
        try:
            run.s3.put_object(Bucket=run.bucket, Key=payload.key, Body=payload.body,
                              ContentType="application/x-ndjson")
        except Exception as exc:  # every failure is reported to Locust, none stops the run
            error = exc
        elapsed_ms = (time.perf_counter() - t0) * 1000
        self.environment.events.request.fire(
            request_type=REQUEST_TYPE, name=REQUEST_NAME, response_time=elapsed_ms,
            response_length=len(payload.body), exception=error, context={"slot": slot.index},
        )
        if run.log is not None:
            run.log.write(slot.index, payload.key, started, started + elapsed_ms / 1000, len(payload.body),
                          payload.records, None if error is None else f"{type(error).__name__}: {error}"[:300])


class ProfileShape(LoadTestShape):
    """Keeps the users running for the schedule's length, then ends the run (users pace themselves).

    Each tick the user count may grow from the last ten seconds' p95 upload latency and the rate
    due in the next seconds (sim/load/users.py); every change goes to `users.jsonl` beside the
    upload logs, so a missed rate can be traced to the harness or to the engine.
    """

    _sizer: users.Sizer | None = None
    _changes_written = 0

    def tick(self):
        opts = self.runner.environment.parsed_options
        shape = shape_of(opts)
        t = self.get_run_time()
        if t > shape.duration_s + DEFAULT_GRACE_S + END_SLACK_S:
            return None
        if t > shape.duration_s + DEFAULT_GRACE_S and self.runner.user_count == 0:
            return None  # every user has run out of slots and stopped
        if self._sizer is None:
            self._sizer = sizer_for(opts, shape)
        rate_ahead = max(shape.rate(t + dt) for dt in users.LOOKAHEAD_S)
        n = self._sizer.update(t, rate_ahead, _recent_p95_s(self.runner.stats.total))
        self._record(opts)
        return n, n

    def _record(self, opts) -> None:
        changes = self._sizer.changes
        if not opts.sim_upload_log or self._changes_written >= len(changes):
            return
        for change in changes[self._changes_written:]:
            log.info("users -> %d (p95 %.0f ms at %.1f files/s%s)", change["users"], change["p95_ms"], change["rate"],
                     ", the cap" if change["at_cap"] else "")
        with open(os.path.join(opts.sim_upload_log, "users.jsonl"), "a", encoding="utf-8") as fh:
            for change in changes[self._changes_written:]:
                fh.write(json.dumps({**change, "limit": self._sizer.limit}) + "\n")
        self._changes_written = len(changes)


def _recent_p95_s(total) -> float | None:
    """The p95 of the uploads that ended in about the last ten seconds (all of them early on)."""
    if not total.num_requests:
        return None
    ms = total.get_current_response_time_percentile(0.95) or total.get_response_time_percentile(0.95)
    return ms / 1000 if ms else None
