"""`sim bench`'s validation figures on what is deployed now, without the rest of the bench.

    .venv/bin/python scripts/bench_validation.py [--workdir .sim] [--repeat 1] [--json]

Leave data deployed first (`sim demo --files 200 --file-size 3.5MB` leaves its run; the engine keeps
running), then run this: the plain read-and-parse baseline (sim/load/valbench.py) and `sim validate`
on the same data, one after the other, `--repeat` times. Compare the ratios: timings move with
whatever else runs on the machine.
"""

from __future__ import annotations

import argparse
import json

from sim.infra.project import Project
from sim.load import valbench


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    project = Project(args.workdir, None, None, None)
    for _ in range(args.repeat):
        result = valbench.measure(project, args.workers)
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            print(f"baseline {result['baseline_s']:.2f} s, validation {result['validation_s']:.2f} s "
                  f"(pass {result['validation_pass']}, {result['records']:,} records), "
                  f"ratio {result['ratio_to_baseline']:.2f}; stages {result['validation_seconds']}", flush=True)


if __name__ == "__main__":
    main()
