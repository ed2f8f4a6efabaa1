"""Faults for scenarios, from the outside of any pipeline: the crash explorer (boundaries between
AWS calls, cells judged by validation) and in-process builders of `sim`'s own pipeline. The faults
themselves are applied inside the pipeline's processes by sim/inject. Nothing here is deployed to AWS."""
