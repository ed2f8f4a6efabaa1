"""Fault injection for scenarios: switching the pipeline's fault points on, and the seed plan's
builder orderings to compare against ours. Nothing here is deployed to AWS."""
