"""The figures of the user's plan (shared/seed/final-implementation-plan.md), as it states them.

Kept verbatim where the plan gives text ("1-2", "2-4%") so reports quote it faithfully; `low`/`high`
hold the numeric reading used to judge it.
"""

LOAD = {
    "files_per_day": 8000,
    "peak_hour_files": 1000,
    "file_size_mb": 3.5,
    "batch_size": 200,
    "manifests_per_day": 40,
    "glue_jobs_per_day": 40,
    "glue_run_minutes": (3, 5),
    "headroom_multiple": 600,
    "headroom_files_per_day": 4_800_000,
}

COST = [  # component, USD per month
    {"component": "Lambda", "monthly_usd": 5},
    {"component": "Glue", "monthly_usd": 220, "text": "Glue (40 jobs/day)"},
    {"component": "DynamoDB", "monthly_usd": 10},
    {"component": "S3 storage", "monthly_usd": 20, "text": "S3 Storage (840 GB)"},
    {"component": "S3 requests", "monthly_usd": 5},
    {"component": "Step Functions", "monthly_usd": 1},
    {"component": "CloudWatch Logs", "monthly_usd": 5},
]
COST_TOTAL = 270

OPTIMIZATIONS = [
    {"name": "Glue Flex", "monthly_saving_usd": 75, "text": "~$75 (34% reduction)"},
    {"name": "G.0.25X workers", "monthly_saving_usd": 165, "text": "~$165 (75% reduction)"},
    {"name": "S3 Intelligent-Tiering", "monthly_saving_usd": 8, "text": "~$8 (40% on storage)"},
]
OPTIMIZATIONS_TOTAL = 220

UTILIZATION = [  # the plan's "System Utilization" table
    {"component": "SQS", "capacity": "3,000/sec", "capacity_value": 3000, "current": "0.09/sec",
     "current_low": 0.09, "current_high": 0.09, "utilization": "0.003%", "util_low": 0.003, "util_high": 0.003},
    {"component": "Lambda Concurrency", "capacity": "1,000", "capacity_value": 1000, "current": "1-2",
     "current_low": 1, "current_high": 2, "utilization": "0.2%", "util_low": 0.2, "util_high": 0.2},
    {"component": "DynamoDB Writes", "capacity": "40,000 WCU", "capacity_value": 40000, "current": "0.1 WCU/sec",
     "current_low": 0.1, "current_high": 0.1, "utilization": "0.0003%", "util_low": 0.0003, "util_high": 0.0003},
    {"component": "Glue Concurrent Jobs", "capacity": "50", "capacity_value": 50, "current": "1-2",
     "current_low": 1, "current_high": 2, "utilization": "2-4%", "util_low": 2, "util_high": 4},
    {"component": "Step Functions", "capacity": "2,000/sec", "capacity_value": 2000, "current": "0.0005/sec",
     "current_low": 0.0005, "current_high": 0.0005, "utilization": "0.00003%", "util_low": 0.00003, "util_high": 0.00003},
]
