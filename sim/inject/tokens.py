"""Counts several processes agree on, kept as files in the run's state folder.

A token is a file created with O_CREAT | O_EXCL: exactly one process gets each name, whichever
Lambda worker or Glue run asks first, with no lock and nothing to clean up but the folder. Two
kinds: `take(name, limit)` hands out the first `limit` tokens of a name (a rule's `times`), and
`next_number(name)` numbers events across the run (the nth call of an operation, run-wide). Each
process remembers how far it got, so a call costs one successful create plus one failed create
per token other processes took meanwhile.
"""

from __future__ import annotations

import os
import threading


class Tokens:
    def __init__(self, state_dir: str):
        self.state_dir = state_dir
        os.makedirs(state_dir, exist_ok=True)
        self._next = {}  # name -> the first index this process has not seen taken
        self._lock = threading.Lock()

    def _create(self, name: str, i: int) -> bool:
        try:
            fd = os.open(os.path.join(self.state_dir, "%s.%d" % (name, i)), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def take(self, name: str, limit: int) -> bool:
        """True for the first `limit` takes of `name` across every process sharing the folder."""
        with self._lock:
            i = self._next.get(name, 0)
            while i < limit:
                got = self._create(name, i)
                i += 1
                if got:
                    self._next[name] = i
                    return True
            self._next[name] = i
            return False

    def next_number(self, name: str) -> int:
        """1, 2, 3, ... across every process sharing the folder, each number given out once."""
        with self._lock:
            i = self._next.get(name, 0)
            while not self._create(name, i):
                i += 1
            self._next[name] = i + 1
            return i + 1
