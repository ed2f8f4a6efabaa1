"""Workload jobs: `sim demo` (generated files) and `sim land` (the user's own), each through a fresh
pipeline, drained and validated record by record."""
