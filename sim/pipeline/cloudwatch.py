"""Counts the alarms watch: quarantined lines and files, overwritten keys.

Published to the deployment's own namespace (METRICS_NAMESPACE; unset means not published, as in
unit tests). The converter publishes after every conversion, zeros included, so an alarm returns
to OK once the input is clean again; the builder publishes only when a key was overwritten.
"""

from __future__ import annotations

import os

import boto3


def emit(counts: dict[str, int], client=None) -> bool:
    namespace = os.environ.get("METRICS_NAMESPACE", "")
    if not namespace or not counts:
        return False
    data = [{"MetricName": name, "Value": float(value), "Unit": "Count"} for name, value in counts.items()]
    (client or boto3.client("cloudwatch")).put_metric_data(Namespace=namespace, MetricData=data)
    return True
