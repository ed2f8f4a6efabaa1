"""Fault scenarios: each starts from a clean pipeline, injects its fault, and ends in a verdict."""
