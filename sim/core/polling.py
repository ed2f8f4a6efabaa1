"""The one way to wait for something: ask again every `every` seconds until it answers truthy."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(ready: Callable[[], T], timeout: float = 60.0, every: float = 0.5, what: str = "a condition") -> T:
    """The first truthy answer of `ready`; TimeoutError naming `what` when none came within `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = ready()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
