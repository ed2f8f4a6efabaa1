"""Metrics of a run, quotas and prices as data, capacity and cost models, and their rendering."""
