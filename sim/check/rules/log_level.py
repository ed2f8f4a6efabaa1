"""Logging: LOG_LEVEL is a level name on every function and on the Glue job, and DEBUG is not left on in
production. From plan Phase 1 item 3 (INFO in production, DEBUG elsewhere), so the level changes per
environment without a code change. (Named for the check, not `logging`, to stay clear of the stdlib.)
"""

from __future__ import annotations

from sim.check.rules.base import DEPLOY_FIX, Gap, Snapshot, _Findings, check

# Python logging level names the pipeline accepts (sim/pipeline/logs.py falls back to INFO otherwise).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL")


@check("log-level", "LOG_LEVEL is set on every function and on the Glue job",
       "plan Phase 1 item 3 (LOG_LEVEL: INFO in production, DEBUG elsewhere)")
def log_level(snap: Snapshot):
    f, n = _Findings(), snap.names
    seen, environment = [], ""

    def judge(where: str, level, fix: str) -> None:
        if not level:
            f.problem(f"{where} has no LOG_LEVEL: the level cannot be changed per environment", fix)
        elif str(level).upper() not in LOG_LEVELS:
            f.problem(f"{where} has LOG_LEVEL={level!r}, not a level name: the code falls back to INFO", fix)
        else:
            seen.append(f"{where} {level}")

    for name in snap.expected_functions():
        config = f.value(snap.functions.get(name, Gap("missing", f"function {name}")))
        if config is None:
            continue
        env = (config.get("Environment") or {}).get("Variables") or {}
        environment = environment or env.get("ENVIRONMENT", "")
        judge(name, env.get("LOG_LEVEL"), f"set LOG_LEVEL on {name}; {DEPLOY_FIX}")
    if snap.glue_mode:
        job = f.value(snap.glue_job if snap.glue_job is not None else Gap("missing", f"Glue job {n.glue_job}"))
        if job is not None:
            judge(f"job {n.glue_job} (--LOG_LEVEL)", (job.get("DefaultArguments") or {}).get("--LOG_LEVEL"),
                  f"set the default argument --LOG_LEVEL on {n.glue_job}; {DEPLOY_FIX}")
    if environment == "production" and any(s.upper().endswith(" DEBUG") for s in seen):
        f.warn("DEBUG in production: the plan sets INFO there (the pipeline logs counts, keys and ids at any level, "
               "but DEBUG multiplies the log volume CloudWatch bills)",
               "`sim deploy --log-level INFO` (or drop the override)")
    return f.result(", ".join(seen) + (f" (ENVIRONMENT={environment})" if environment else ""))
