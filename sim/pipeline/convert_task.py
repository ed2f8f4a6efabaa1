"""Lambda entry point for the converter, for engines without Glue (LocalStack's free edition).

The state machine invokes it with the workflow input: {"manifest_id", "manifest_key", ...}.
"""

from __future__ import annotations

import os

from . import convert_manifest, telemetry


def handler(event, context=None):
    with telemetry.invocation("converter", runtime="lambda", manifest_id=event.get("manifest_id", "")):
        return convert_manifest.run(
            manifest_bucket=os.environ["MANIFEST_BUCKET"],
            manifest_key=event["manifest_key"],
            output_bucket=os.environ["OUTPUT_BUCKET"],
            table_name=os.environ["TABLE_NAME"],
        )
