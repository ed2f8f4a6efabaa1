"""crash-matrix: crash the builder at every step boundary, for the seed's two orderings and ours,
by an exception and by killing its worker process; then the cases that need a real death."""

from sim.faults.crash_matrix import (
    MODES, ORDERINGS, POINTS, closed_execution_cell, run_cell, stalled_past_lease_case)

NAME = "crash-matrix"
ORDER = 7
DESCRIPTION = ("crash the builder at every step boundary (seed-original, seed-plan, hardened), by exception and by "
               "SIGKILL of its worker, on the production timeline scaled down; recovery after the execution closed "
               "SUCCEEDED and FAILED; a builder stalled past its lease; every part of validation judged per cell")
FILES = 5


def run(ctx):
    ctx.fresh()
    matrix = []
    for mode in MODES:
        for ordering in ORDERINGS:
            for point in POINTS[ordering]:
                ctx.say(f"  {mode}: {ordering} crash {point}")
                matrix.append(run_cell(ctx, ordering, point, FILES, mode))
    for outcome in ("SUCCEEDED", "FAILED"):
        ctx.say(f"  kill after StartExecution, recovery after the execution closed {outcome}")
        matrix.append(closed_execution_cell(ctx, FILES, outcome))
    ctx.say("  a builder stalled mid-claims past its lease, then resuming")
    stalled = stalled_past_lease_case(ctx, FILES)
    hardened = [c for c in matrix if c["ordering"] == "hardened"]
    findings = [f"{c['ordering']} ({c['mode']}) crashing {c['crash_point']}: {'; '.join(c['violations'])}"
                for c in matrix if c["violations"] and c["ordering"] != "hardened"]
    findings += [f"hardened ({c['mode']}) crashing {c['crash_point']}: {'; '.join(c['violations'])}"
                 for c in hardened + [stalled] if c["violations"]]
    every_point_crashed = all(c["crashed"] for c in matrix)
    seeds_show_theirs = all(any(c["violations"] for c in matrix if c["ordering"] == o and c["mode"] == m)
                            for o in ORDERINGS if o != "hardened" for m in MODES)
    passed = (every_point_crashed and seeds_show_theirs and all(not c["violations"] for c in hardened)
              and not stalled["violations"])
    evidence = {
        "matrix": matrix,
        "stalled_past_lease": stalled,
        "cells": len(matrix),
        "broken_cells": {f"{o}/{m}": sum(1 for c in matrix if c["ordering"] == o and c["mode"] == m and c["violations"])
                         for o in ORDERINGS for m in MODES},
        "every_point_crashed": every_point_crashed,
        "seed_orderings_show_violations": seeds_show_theirs,
    }
    return ctx.verdict(passed, evidence, findings)
