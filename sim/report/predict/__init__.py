"""`sim report --predict`: a discrete-event model of the pipeline (SimPy), checked against a recorded
local run and then run with AWS's limits: params (what it needs), model (the processes), recorded
(a run read back), local (the run's own limits and service times), aws (the deployed or the plan's
settings and the quotas), cost, sweep, and build (the report)."""
