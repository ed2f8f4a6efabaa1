"""One embedded engine (MiniStack) for the integration tests, in a temporary workdir.

Tests share it and start from clean data: `pipeline` wipes landed files, state, queues and
workflow history, then deploys with a small batch size so a few hundred files make several
manifests.
"""

import json
import os

import pytest

from sim.core import polling
from sim.engine import ministack
from sim.infra.project import Project
from sim.ops.fresh import fresh_pipeline
from sim.ops.watch import Watcher, workflows_settled

BATCH = 25


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("simwork")
    state, _ = ministack.start(workdir)
    yield workdir
    ministack.stop(workdir)
    log = workdir / ministack.LOG_FILE
    if log.exists() and os.environ.get("CI"):
        print(f"engine log: {log} ({log.stat().st_size} bytes)")


@pytest.fixture
def project(engine):
    return Project(str(engine))


@pytest.fixture
def pipeline(project):
    """A freshly wiped and deployed pipeline with MANIFEST_BATCH_SIZE=BATCH."""
    deployer = fresh_pipeline(project, start_engine=False, batch_size=BATCH).deployer
    yield deployer
    # Let workflows the test started finish before the next test wipes their state.
    arn = deployer.wiring.state_machine_arn()
    wait_until(lambda: workflows_settled(project.target, arn), timeout=120)


@pytest.fixture
def watcher(project, pipeline):
    return Watcher(project.target, project.names)


def manifest_items(project):
    ddb = project.target.client("dynamodb")
    items = []
    for page in ddb.get_paginator("scan").paginate(TableName=project.names.table):
        items += [i for i in page["Items"] if i.get("record_type", {}).get("S") == "MANIFEST"]
    return items


def wait_until(predicate, timeout=60.0, every=0.5):
    try:
        return polling.wait_until(predicate, timeout=timeout, every=every)
    except TimeoutError as exc:
        raise AssertionError(f"condition not met in time ({exc})") from None


def dumps(obj) -> str:
    return json.dumps(obj, default=str, indent=1)

