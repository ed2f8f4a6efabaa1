"""The crash explorer's boundaries: from the AWS calls one clean invocation made, in order, every
place a process can die between two calls, named by the calls around it.

A recorded call is one line of the fault bundle's record file (sim/inject): `call` is
"service.Operation" and `nth` its ordinal among that operation's calls in the invocation. Boundary
0 is before the first call; boundary i is after call i (and before call i+1, when there is one).
Each becomes one fault rule that kills (or raises in) the process there, counted within the
invocation, once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Call:
    call: str  # "dynamodb.PutItem"
    nth: int  # the how-many-th call of that operation in the invocation

    @property
    def label(self) -> str:
        return f"{self.call} #{self.nth}"


@dataclass(frozen=True)
class Boundary:
    index: int
    after: Call | None  # the call just made (None: before the first call)
    before: Call | None  # the call about to be made (None: after the last call)

    @property
    def name(self) -> str:
        if self.after is None and self.before is None:
            return "the invocation, which made no AWS call"
        if self.after is None:
            return f"before {self.before.label} (the first call)"
        if self.before is None:
            return f"after {self.after.label} (the last call)"
        return f"after {self.after.label}, before {self.before.label}"

    def rule(self, process: str = "builder", action: str = "kill") -> dict:
        """The fault rule that stops the process at this boundary, once."""
        if self.after is not None:
            call, when = self.after, "after"
        elif self.before is not None:
            call, when = self.before, "before"
        else:
            return {"process": process, "action": action, "when": "start", "times": 1}
        return {"process": process, "call": call.call, "nth": call.nth, "count": "invocation",
                "action": action, "when": when, "times": 1}


def calls_of(records: list[dict], invocation: str | None = None) -> list[Call]:
    """The calls of one invocation (the first recorded, by default), in the order it made them."""
    if not records:
        return []
    wanted = invocation or records[0].get("invocation")
    mine = [r for r in records if r.get("invocation") == wanted]
    mine.sort(key=lambda r: int(r.get("seq", 0)))
    return [Call(str(r["call"]), int(r["nth"])) for r in mine]


def boundaries(calls: list[Call]) -> list[Boundary]:
    """Every boundary of a call sequence: n calls have n + 1."""
    out = [Boundary(0, None, calls[0] if calls else None)]
    for i, call in enumerate(calls, 1):
        out.append(Boundary(i, call, calls[i] if i < len(calls) else None))
    return out
