"""The seed plan's manifest builder, to show where its orderings break.

Two orderings from the plan, both without a lease, without open-manifest recovery and (unless
asked) with unconditional status updates, as the plan's code has them:
- `seed-original`: MANIFEST record, file statuses, workflow;
- `seed-plan` (the plan's item 2): workflow, MANIFEST record, file statuses.
It shares the production builder's tracking, manifest object and workflow start, and reaches the
same named fault points at the same step boundaries, so a crash matrix compares like with like.
"""

from __future__ import annotations

from typing import Callable

from botocore.exceptions import ClientError

from sim.pipeline import faultpoints, manifests
from sim.pipeline.builder import Builder
from sim.pipeline.state import MANIFEST_PREFIX, now

ORDERINGS = {
    "seed-original": ("manifest_record", "statuses", "workflow"),
    "seed-plan": ("workflow", "manifest_record", "statuses"),
}


class SeedBuilder(Builder):
    def __init__(self, settings, ordering: str, conditional_claims: bool = False,
                 before_statuses: Callable[[], None] | None = None, **kwargs):
        super().__init__(settings, **kwargs)
        if ordering not in ORDERINGS:
            raise ValueError(f"unknown ordering {ordering!r}")
        self.ordering = ordering
        self.conditional_claims = conditional_claims
        self.before_statuses = before_statuses

    def build_ready(self, date_prefix: str, flush: bool) -> list[str]:
        built = []
        size = self.settings.batch_size
        while True:
            pending = self.state.pending_files(date_prefix, limit=size)
            keys = set(manifests.next_batch([p["file_key"] for p in pending], size, flush))
            if not keys:
                return built
            files = [p for p in pending if p["file_key"] in keys]
            built.append(self._build(date_prefix, files))

    def _build(self, date_prefix: str, files: list[dict]) -> str:
        mid = manifests.new_manifest_id(date_prefix)
        mkey = manifests.manifest_key(date_prefix, mid)
        arn = None
        for step in ORDERINGS[self.ordering]:
            if step == "manifest_record":
                self._put_manifest_record(date_prefix, mid, mkey, len(files), arn)
                faultpoints.reach("after_manifest_record")
            elif step == "statuses":
                if self.before_statuses:
                    self.before_statuses()
                for i, f in enumerate(files):
                    if i == len(files) // 2:
                        faultpoints.reach("mid_claims")
                    self._set_status(date_prefix, f["file_key"], mid)
                faultpoints.reach("after_claims")
            else:
                body = manifests.manifest_document(mid, date_prefix, files)
                self.s3.put_object(Bucket=self.settings.manifest_bucket, Key=mkey, Body=body)
                faultpoints.reach("after_manifest_object")
                arn = self._start_workflow(date_prefix, mid, mkey, len(files))
                faultpoints.reach("after_start_workflow")
        return mid

    def _put_manifest_record(self, date_prefix, mid, mkey, count, arn) -> None:
        item = {"date_prefix": date_prefix, "file_key": MANIFEST_PREFIX + mid, "record_type": "MANIFEST",
                "manifest_id": mid, "manifest_key": mkey, "status": "started", "file_count": count,
                "created_at": now(), "updated_at": now()}
        if arn:
            item["execution_arn"] = arn
        self.state.table.put_item(Item=item)

    def _set_status(self, date_prefix: str, key: str, mid: str) -> None:
        kwargs = dict(
            Key={"date_prefix": date_prefix, "file_key": key},
            UpdateExpression="SET #s = :m, manifest_id = :mid REMOVE pending_date",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":m": "manifested", ":mid": mid},
        )
        if self.conditional_claims:
            kwargs["ConditionExpression"] = "#s = :p"
            kwargs["ExpressionAttributeValues"][":p"] = "pending"
        try:
            self.state.table.update_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def flush(self, max_wait_s: float) -> dict:
        built = []
        for date_prefix in sorted(self.state.pending_dates()):
            built.extend(self.build_ready(date_prefix, flush=True))
        return {"manifests": built, "recovered": []}
