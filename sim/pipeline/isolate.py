"""Find which lines or rows a failure belongs to, so that a failure costs those alone.

A step that works on many lines at once (building a chunk's columns, fitting them to the file's
schema, writing a row group) can fail because of one of them, with any exception. `failing` tries
the step on halves, then halves of the failing halves, down to single items: the items that fail
alone are found in O(f log n) tries for f of them among n. A step that fails only on items
together, never on one alone, finds none: that failure is not about a line, and the caller raises
it.

Some failures are never about a line: the machine is out of memory, or the disk or the network
failed (OSError, which pyarrow's I/O errors are). They are not isolated; they fail the manifest, and
its retry runs it again.
"""

from __future__ import annotations

from typing import Callable, Sequence


def about_the_data(exc: BaseException) -> bool:
    """Could this failure come from the values being processed (not from the machine)?"""
    return isinstance(exc, Exception) and not isinstance(exc, (MemoryError, OSError))


def reason(exc: BaseException, step: str) -> str:
    """A quarantine reason for an unforeseen failure: its kind only (messages may quote values)."""
    return f"the converter failed on this line while {step} it ({type(exc).__name__})"


def failing(count: int, attempt: Callable[[Sequence[int]], object]) -> dict[int, BaseException]:
    """The indices in range(count) on which `attempt` (given a list of indices) fails alone, each
    with its exception. Failures not about the data are raised at once."""
    found: dict[int, BaseException] = {}

    def probe(indices: Sequence[int]) -> None:
        try:
            attempt(indices)
            return
        except Exception as exc:
            if not about_the_data(exc):
                raise
            if len(indices) == 1:
                found[indices[0]] = exc
                return
        half = len(indices) // 2
        probe(indices[:half])
        probe(indices[half:])

    if count:
        half = count // 2
        whole = list(range(count))
        if count == 1:
            probe(whole)
        else:  # the whole set is known to fail: start with its halves
            probe(whole[:half])
            probe(whole[half:])
    return found
