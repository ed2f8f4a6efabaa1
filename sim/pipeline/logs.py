"""Logging for the pipeline: level from LOG_LEVEL, one line per event of `key=value` pairs.

Log calls carry counts, keys and ids only. Record content never reaches a log: callers pass
fields explicitly and nothing here serialises an event or a record.
"""

from __future__ import annotations

import logging
import os

_FORMAT = "%(levelname)s %(name)s %(message)s"
_LIBRARY_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3")


def get_logger(name: str) -> logging.Logger:
    level_name = os.environ.get("LOG_LEVEL", "INFO").upper()
    level = getattr(logging, level_name, None)
    if not isinstance(level, int):
        level = logging.INFO
    root = logging.getLogger()
    if not root.handlers:  # AWS Lambda installs its own handler; keep it when present.
        logging.basicConfig(format=_FORMAT)
    root.setLevel(level)
    # Library loggers at DEBUG print request parameters and bodies: keep them quiet whatever
    # LOG_LEVEL says, so DEBUG means more of this pipeline's own lines, never record content.
    for noisy in _LIBRARY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    logger = logging.getLogger(name)
    logger.setLevel(level)
    return logger


def kv(event: str, **fields) -> str:
    """Format one log line: `event k1=v1 k2=v2`. Values are ids, keys and numbers."""
    parts = [event] + [f"{k}={v}" for k, v in fields.items()]
    return " ".join(parts)
