"""crash-matrix: crash the builder at every step boundary, for the seed's two orderings and ours."""

from sim.faults.crash_matrix import ORDERINGS, POINTS, run_cell

NAME = "crash-matrix"
ORDER = 7
DESCRIPTION = ("crash the builder at every step boundary (seed-original, seed-plan, hardened); redelivery and "
               "the sweeper recover; invariants 1-3 are checked per cell")
FILES = 5


def run(ctx):
    matrix = []
    for ordering in ORDERINGS:
        for point in POINTS[ordering]:
            ctx.say(f"  {ordering} crash {point}")
            matrix.append(run_cell(ctx, ordering, point, FILES))
    hardened = [c for c in matrix if c["ordering"] == "hardened"]
    findings = [f"{c['ordering']} crashing {c['crash_point']}: {'; '.join(c['violations'])}"
                for c in matrix if c["violations"] and c["ordering"] != "hardened"]
    every_point_crashed = all(c["crashed"] for c in matrix)
    passed = every_point_crashed and all(not c["violations"] for c in hardened)
    evidence = {
        "matrix": matrix,
        "cells": len(matrix),
        "broken_cells": {o: sum(1 for c in matrix if c["ordering"] == o and c["violations"]) for o in ORDERINGS},
        "every_point_crashed": every_point_crashed,
    }
    return ctx.verdict(passed, evidence, findings)
