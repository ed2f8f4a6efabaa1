"""What a scenario gets to work with, and what it returns.

A scenario is a file `scenarios/<name>.py` with NAME, DESCRIPTION and `run(ctx) -> Verdict`.
It starts from a clean pipeline (`ctx.fresh(rules=[...])`), injects its fault, observes, and
returns a verdict with evidence (counts, ids, timings). The runner restores the default deployment
after every scenario, whatever happened, so faults never leak into the next one.

The parts are independent, as in Jepsen: the pipeline under test (`ctx.pipeline`, any described
pipeline), the load (`land_generated`), the faults (fault rules at the AWS-call boundary, applied
inside the pipeline's own processes by sim/inject; queue-level faults sent here), and the verdict
(`validate`: the lineage-free multiset for any pipeline, more for `sim`'s own). A scenario that can
only judge `sim`'s own schema returns `ctx.skip(reason)` for another pipeline: never a pass.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from botocore.exceptions import ClientError

from sim import inject
from sim.core.errors import SimError
from sim.core.polling import wait_until
from sim.engine import ministack
from sim.infra.deploy import Deployer
from sim.infra.project import Project
from sim.infra.spec import Names, Settings
from sim.ops.fresh import fresh_pipeline
from sim.ops.publisher import MetricsPublisher
from sim.ops.outside import watcher_for
from sim.ops.watch import workflows_settled
from sim.validate.inventory import plain
from sim.validate.run import validate
from sim.workload.upload import upload_generated

SCENARIO_BATCH = 5  # small manifests: every scenario sees several, in seconds


def examples_dir() -> Path:
    """The repository's examples/ (`$SIM_EXAMPLES_DIR` when set: the Docker image sets it)."""
    return Path(os.environ.get("SIM_EXAMPLES_DIR", Path(__file__).resolve().parents[2] / "examples"))


@dataclass
class Verdict:
    name: str
    verdict: str  # PASS, FAIL, or SKIP (the scenario cannot judge this pipeline; `skipped` says why)
    evidence: dict
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str = ""

    def as_dict(self) -> dict:
        out = {"name": self.name, "verdict": self.verdict, "evidence": self.evidence,
               "findings": self.findings, "seconds": round(self.seconds, 2)}
        if self.skipped:
            out["skipped"] = self.skipped
        return out


class Inbox:
    """An SQS queue subscribed to the alerts topic: what SNS would email, readable by a test."""

    def __init__(self, target, topic_arn: str, prefix: str):
        self.sqs, self.sns = target.client("sqs"), target.client("sns")
        self.url = self.sqs.create_queue(QueueName=f"{prefix}-inbox-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.subscription = self.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                                               Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
        self.received: list[str] = []

    def poll(self) -> list[str]:
        msgs = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for m in msgs:
            self.received.append(m["Body"])
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
        return self.received

    def alarms(self) -> dict[str, dict]:
        """Alarm notifications received so far, by alarm name."""
        out = {}
        for body in self.received:
            try:
                doc = json.loads(body)
            except ValueError:
                continue
            if isinstance(doc, dict) and "AlarmName" in doc:
                out[doc["AlarmName"]] = doc
        return out

    def close(self) -> None:
        self.sns.unsubscribe(SubscriptionArn=self.subscription)
        self.sqs.delete_queue(QueueUrl=self.url)


class Context:
    def __init__(self, project: Project, name: str, progress: Callable[[str], None] | None = None):
        self.project = project
        self.name = name
        self.target = project.target
        self.names = project.names
        self.say = progress or (lambda _m: None)
        self.deployer: Deployer | None = None
        self._inboxes: list[Inbox] = []
        self._others: list["Context"] = []
        self.extra_env: dict = {}

    # -- set-up ----------------------------------------------------------------------------
    def settings(self, **overrides) -> Settings:
        base = {"batch_size": SCENARIO_BATCH}
        base.update(overrides)
        base["extra_env"] = {**self.extra_env, **(base.get("extra_env") or {})}
        return self.project.settings(**base)

    def other(self, pipeline: str | Path, extra_env: dict | None = None, prefix: str | None = None) -> "Context":
        """A context for another described pipeline on the same engine (its own prefix, or `prefix`
        to deploy it twice), with environment variables set on its builder (a switch of an example,
        say); restored with this one."""
        project = Project(str(self.project.workdir), self.project._endpoint, self.project._target_name, pipeline)
        if prefix:
            project.names = Names(prefix)
        child = Context(project, self.name, self.say)
        child.extra_env = dict(extra_env or {})
        self._others.append(child)
        return child

    @staticmethod
    def example(*parts: str) -> Path:
        """A file of the seed plan's pipeline, written as the plan writes it (examples/seed-plan/)."""
        path = examples_dir().joinpath("seed-plan", *parts)
        if not path.exists():
            raise SimError(f"{path} is missing: run from a clone of the project, or set SIM_EXAMPLES_DIR")
        return path

    @property
    def pipeline(self):
        """The pipeline under test (its description)."""
        return self.project.pipeline

    @property
    def own(self) -> bool:
        """`sim`'s own pipeline: its schema and lineage allow checks another pipeline cannot have."""
        return self.project.pipeline.own

    def faults(self, rules: list[dict] | None = None, record: bool = False) -> str:
        """SIM_FAULTS for these rules (checked now: a mistake is one error), with a fresh state
        folder so `times` and run-wide counts start at zero; `record` writes every call made."""
        try:
            doc = inject.faults_json(self.project.workdir / "faults", list(rules or []), record=record)
        except inject.InjectError as exc:
            raise SimError(f"scenario {self.name}: {exc}") from None
        self.last_faults = json.loads(doc)
        return doc

    def fresh(self, rules: list[dict] | None = None, record: bool = False, **overrides) -> Deployer:
        """Wipe the pipeline's data and deploy it with these fault rules and settings (knobs)."""
        if rules is not None or record:
            overrides["faults"] = self.faults(rules, record)
        base = {"batch_size": SCENARIO_BATCH, **overrides}
        base["extra_env"] = {**self.extra_env, **(base.get("extra_env") or {})}
        self.deployer = fresh_pipeline(self.project, start_engine=False, remember=False, **base).deployer
        return self.deployer

    def redeploy(self, rules: list[dict] | None = None, **overrides) -> Deployer:
        """Change settings or rules without wiping data (`rules=[]` lifts every fault)."""
        if rules is not None:
            overrides["faults"] = self.faults(rules)
        self.deployer = self.project.deployer(self.settings(**overrides))
        self.deployer.apply()
        return self.deployer

    def calls(self) -> list[dict]:
        """The calls recorded since the last `fresh(record=True)`, in the order they were made."""
        path = (getattr(self, "last_faults", None) or {}).get("record")
        if not path or not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    def skip(self, reason: str, evidence: dict | None = None) -> Verdict:
        """This scenario cannot judge the pipeline under test: say why (never a silent pass)."""
        return Verdict(self.name, "SKIP", evidence or {"pipeline": str(self.pipeline.path)}, skipped=reason)

    def restore(self) -> None:
        for other in self._others:
            other.restore()
        self._others.clear()
        for inbox in self._inboxes:
            try:
                inbox.close()
            except Exception:  # noqa: BLE001 - cleanup must not hide the verdict
                pass
        self._inboxes.clear()
        self.wait_workflows(timeout=120, quiet=True)
        self.project.deployer().apply()

    @property
    def wiring(self):
        return self.deployer.wiring

    # -- doing -----------------------------------------------------------------------------
    def land_generated(self, count: int, size: int = 4096, seed: int = 1, date_prefix: str = "2026-11-25",
                       prefix: str = "incoming", start_index: int = 0):
        return upload_generated(self.target.client("s3"), self.names.landing_bucket, count, size, seed,
                                date_prefix, prefix=prefix, start_index=start_index)

    def land(self, files: dict[str, bytes]) -> None:
        s3 = self.target.client("s3")
        for key, body in files.items():
            s3.put_object(Bucket=self.names.landing_bucket, Key=key, Body=body)

    def watcher(self):
        """The pipeline watched: `sim`'s own by its state table, another from outside."""
        return watcher_for(self.target, self.wiring if self.deployer else self.project.wiring())

    def wait(self, expected_files: int, stall_timeout_s: float = 90.0):
        return self.watcher().wait(expected_files, stall_timeout_s=stall_timeout_s)

    def flush(self) -> dict:
        """What the pipeline's flush schedule does, now (its flush event; nothing when it has none)."""
        return self.watcher().flush(3600)

    def validate(self) -> dict:
        return validate(self.target, self.names, self.project.cache_dir(), pipeline=self.pipeline)

    def inbox(self) -> Inbox:
        box = Inbox(self.target, self.wiring.topic_arn(), self.names.prefix)
        self._inboxes.append(box)
        return box

    def publisher(self) -> MetricsPublisher:
        return MetricsPublisher(self.target, self.wiring)

    def await_alarm(self, inbox: Inbox, alarm_name: str, timeout: float = 60.0) -> dict:
        """Publish the metrics the engine lacks until the alarm's SNS message reaches the inbox."""
        publisher = self.publisher()

        def fired():
            publisher.tick()
            inbox.poll()
            return inbox.alarms().get(alarm_name)

        return self.until(fired, timeout=timeout, every=1, what=f"the SNS message of alarm {alarm_name}")

    def file_item(self, date_prefix: str, key: str) -> dict:
        """The builder's item for a landed file, as plain values ({} when it is not tracked)."""
        raw = self.target.client("dynamodb").get_item(
            TableName=self.names.table, Key={"date_prefix": {"S": date_prefix}, "file_key": {"S": key}},
            ConsistentRead=True).get("Item", {})
        return plain(raw)

    def queue_url(self, name: str | None = None) -> str:
        return self.target.client("sqs").get_queue_url(QueueName=name or self.names.queue)["QueueUrl"]

    def wait_workflows(self, timeout: float = 120.0, quiet: bool = False) -> bool:
        arn = (self.deployer.wiring if self.deployer else self.project.wiring()).state_machine_arn()
        try:
            return wait_until(lambda: workflows_settled(self.target, arn), timeout=timeout, what="the running workflows to end")
        except TimeoutError:
            if not quiet:
                raise
            return False

    def until(self, predicate: Callable[[], object], timeout: float = 60.0, every: float = 0.5, what: str = ""):
        return wait_until(predicate, timeout=timeout, every=every, what=what or "a condition")

    # -- observing -------------------------------------------------------------------------
    def log_mark(self) -> int:
        path = self.project.workdir / ministack.LOG_FILE
        return path.stat().st_size if path.exists() else 0

    def log_since(self, mark: int) -> str:
        path = self.project.workdir / ministack.LOG_FILE
        with open(path, "rb") as fh:
            fh.seek(mark)
            return fh.read().decode("utf-8", "replace")

    def s3_event_body(self, key: str, size: int = 0) -> str:
        """The body S3 sends for an upload of `key` as it is now (key URL-encoded; its ETag, size and
        version read back from the bucket), to re-send by hand as a duplicate delivery. The one
        field that cannot be read back is the sequencer: the copy carries "0", which orders before
        any S3 gave, so a builder that compares sequencers treats it as it treats an equal one
        (not newer than what it has)."""
        from urllib.parse import quote_plus

        obj = {"key": quote_plus(key, safe="/"), "size": size, "eTag": "", "sequencer": "0"}
        try:
            head = self.project.target.client("s3").head_object(Bucket=self.names.landing_bucket, Key=key)
        except ClientError:
            pass  # not landed (or gone): the event names the key only
        else:
            obj.update(size=head["ContentLength"], eTag=head["ETag"].strip('"'))
            if head.get("VersionId") and head["VersionId"] != "null":
                obj["versionId"] = head["VersionId"]
        return json.dumps({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "s3": {"bucket": {"name": self.names.landing_bucket, "arn": f"arn:aws:s3:::{self.names.landing_bucket}"},
                   "object": obj},
        }]})

    def sqs_records(self, keys: list[str]) -> list[dict]:
        """Lambda's view of SQS messages carrying these keys' S3 events (for in-process runs)."""
        return [{"messageId": f"m-{i}", "body": self.s3_event_body(k)} for i, k in enumerate(keys)]

    def verdict(self, passed: bool, evidence: dict, findings: list[str] | None = None) -> Verdict:
        return Verdict(self.name, "PASS" if passed else "FAIL", evidence, findings or [])

