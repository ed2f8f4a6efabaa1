"""One embedded engine (MiniStack) for the integration tests, in a temporary workdir.

Tests share it and start from clean data: `pipeline` wipes landed files, state, queues and
workflow history, then deploys with a small batch size so a few hundred files make several
manifests.
"""

import json
import os
import time

import pytest

from sim.drain import Watcher
from sim.engine import ministack
from sim.infra import reset
from sim.infra.deploy import Deployer
from sim.project import Project

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
    settings = project.settings(batch_size=BATCH)
    deployer = Deployer(project.target, settings)
    deployer.apply()
    reset.wipe(project.target, project.names, deployer.wiring.state_machine_arn())
    deployer = Deployer(project.target, settings)
    deployer.apply()
    project.remember(settings)
    yield deployer
    # Let workflows the test started finish before the next test wipes their state.
    sfn = project.target.client("stepfunctions")
    arn = deployer.wiring.state_machine_arn()

    def settled():
        try:
            return not sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
        except sfn.exceptions.StateMachineDoesNotExist:
            return True

    wait_until(settled, timeout=120)


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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")


def dumps(obj) -> str:
    return json.dumps(obj, default=str, indent=1)

