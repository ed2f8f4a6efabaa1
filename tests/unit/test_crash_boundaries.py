"""The crash explorer's boundaries from a recorded call sequence, and the rules that stop a process there."""

from sim.faults.boundaries import Call, boundaries, calls_of


def record(inv, seq, call, nth):
    return {"process": "builder", "invocation": inv, "seq": seq, "call": call, "nth": nth, "t": 0.0, "error": None}


def test_n_calls_have_n_plus_one_boundaries_named_by_the_calls_around_them():
    calls = calls_of([record("a", 2, "dynamodb.PutItem", 2), record("a", 1, "dynamodb.PutItem", 1),
                      record("b", 1, "s3.GetObject", 1), record("a", 3, "stepfunctions.StartExecution", 1)])
    assert calls == [Call("dynamodb.PutItem", 1), Call("dynamodb.PutItem", 2), Call("stepfunctions.StartExecution", 1)]
    bs = boundaries(calls)
    assert [b.name for b in bs] == [
        "before dynamodb.PutItem #1 (the first call)",
        "after dynamodb.PutItem #1, before dynamodb.PutItem #2",
        "after dynamodb.PutItem #2, before stepfunctions.StartExecution #1",
        "after stepfunctions.StartExecution #1 (the last call)",
    ]
    assert bs[0].rule() == {"process": "builder", "call": "dynamodb.PutItem", "nth": 1, "count": "invocation",
                            "action": "kill", "when": "before", "times": 1}
    assert bs[2].rule(action="raise") == {"process": "builder", "call": "dynamodb.PutItem", "nth": 2,
                                          "count": "invocation", "action": "raise", "when": "after", "times": 1}


def test_an_invocation_without_calls_has_one_boundary_at_its_start():
    (only,) = boundaries([])
    assert only.rule() == {"process": "builder", "action": "kill", "when": "start", "times": 1}
    assert "no AWS call" in only.name
