"""Objects every area shares: the error type, the workdir, run folders, quantiles, waiting, the
terminal and `--json` output, the shared command-line options and the `--json` contract.

Imports nothing else of `sim` (a test checks), so any area may use it.
"""
