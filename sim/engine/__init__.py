"""Engines the pipeline runs on: the embedded MiniStack child, or an endpoint someone else runs."""
