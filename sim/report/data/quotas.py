"""AWS quotas (us-east-1 defaults) as rows: id, value, unit, what it limits, source, date, status.

A value of None means no published limit. Override with `sim report --quota ID=VALUE`, an overrides
file, or the dedicated flags (for example --glue-max-concurrent-runs for the job you deploy).

The last rows are AWS behaviours the discrete-event model (`sim report --predict`) runs on: how
fast the SQS pollers scale out, what S3, Lambda and Glue take before work starts. Where AWS
publishes no figure the row says "assumption" and why its value was chosen.
"""

GATHERED = "2026-11-25"

ROWS = [
    {"id": "lambda.concurrency", "value": 1000, "unit": "concurrent executions", "item": "Lambda account concurrency (new accounts get less)",
     "source": "docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html", "status": "official", "date": GATHERED},
    {"id": "esm.sqs.initial_batches", "value": 5, "unit": "concurrent batches", "item": "SQS event source mapping at the start of a burst (+300/min, up to 1,000)",
     "source": "docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html", "status": "official", "date": GATHERED},
    {"id": "esm.sqs.scale_per_min", "value": 300, "unit": "concurrent batches per minute", "item": "SQS event source mapping scale-up rate",
     "source": "docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html", "status": "official", "date": GATHERED},
    {"id": "sqs.standard.throughput", "value": None, "unit": "requests per second", "item": "SQS standard queue throughput (nearly unlimited)",
     "source": "docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues.html", "status": "official", "date": GATHERED},
    {"id": "sqs.fifo.batched", "value": 3000, "unit": "messages per second", "item": "SQS FIFO queue with batching (not this queue's type)",
     "source": "docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues.html", "status": "official", "date": GATHERED},
    {"id": "sqs.standard.inflight", "value": 120_000, "unit": "messages in flight", "item": "SQS standard queue in-flight messages",
     "source": "docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html", "status": "assumption", "date": GATHERED},
    {"id": "s3.put_per_prefix", "value": 3500, "unit": "requests per second", "item": "S3 PUT/COPY/POST/DELETE per partitioned prefix",
     "source": "repost.aws/knowledge-center/http-5xx-errors-s3", "status": "official", "date": GATHERED},
    {"id": "s3.get_per_prefix", "value": 5500, "unit": "requests per second", "item": "S3 GET/HEAD per partitioned prefix",
     "source": "repost.aws/knowledge-center/http-5xx-errors-s3", "status": "official", "date": GATHERED},
    {"id": "dynamodb.table_wru", "value": 40_000, "unit": "write request units per second", "item": "DynamoDB on-demand table default maximum",
     "source": "docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html", "status": "official", "date": GATHERED},
    {"id": "dynamodb.new_table_writes", "value": 4_000, "unit": "writes per second", "item": "DynamoDB new on-demand table, served at once (over 2x the previous peak within 30 min may throttle)",
     "source": "docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html", "status": "official", "date": GATHERED},
    {"id": "dynamodb.partition_wcu", "value": 1_000, "unit": "write units per second", "item": "DynamoDB per partition (one date prefix is one partition key)",
     "source": "docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html", "status": "official", "date": GATHERED},
    {"id": "sfn.start_execution_refill", "value": 300, "unit": "StartExecution per second (bucket 1,300)", "item": "Step Functions standard StartExecution refill, us-east-1",
     "source": "docs.aws.amazon.com/step-functions/latest/dg/limits-overview.html", "status": "official", "date": GATHERED},
    {"id": "sfn.transitions_refill", "value": 1500, "unit": "state transitions per second (bucket 5,000)", "item": "Step Functions standard state transitions refill, us-east-1",
     "source": "docs.aws.amazon.com/step-functions/latest/dg/limits-overview.html", "status": "official", "date": GATHERED},
    {"id": "sfn.open_executions", "value": 1_000_000, "unit": "open executions", "item": "Step Functions standard open executions",
     "source": "docs.aws.amazon.com/step-functions/latest/dg/limits-overview.html", "status": "official", "date": GATHERED},
    {"id": "glue.job_max_concurrent_runs.default", "value": 1, "unit": "concurrent runs of one job", "item": "Glue ExecutionProperty.MaxConcurrentRuns when not set",
     "source": "docs.aws.amazon.com/glue/latest/webapi/API_ExecutionProperty.html", "status": "official", "date": GATHERED},
    {"id": "glue.job_max_concurrent_runs", "value": 10, "unit": "concurrent runs of one job", "item": "Glue MaxConcurrentRuns of the deployed job (sim/infra/spec.py)",
     "source": "sim/infra/spec.py Settings.glue_max_concurrent_runs", "status": "deployed", "date": GATHERED},
    {"id": "glue.account_concurrent_runs", "value": 50, "unit": "concurrent job runs per account", "item": "Glue concurrent job runs per account (NOT confirmed: 50 on re:Post, 200 in a quota dump)",
     "source": "repost.aws (50) vs a Service Quotas dump (200)", "status": "not verified", "date": GATHERED},
    {"id": "builder.lease_per_date", "value": 1, "unit": "builder assembling a date's manifests", "item": "Manifest builder per-date lease (one builder at a time, by design)",
     "source": "sim/pipeline/builder.py", "status": "design", "date": GATHERED},
    # behaviours the discrete-event model of `sim report --predict` runs on
    {"id": "esm.sqs.max_concurrency", "value": 1000, "unit": "concurrent batches", "item": "SQS event source mapping's most concurrent batches (its MaximumConcurrency, 2-1,000, caps it lower)",
     "source": "docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html", "status": "official", "date": GATHERED},
    {"id": "sfn.start_execution_bucket", "value": 1300, "unit": "StartExecution calls at once", "item": "Step Functions standard StartExecution token bucket, us-east-1",
     "source": "docs.aws.amazon.com/step-functions/latest/dg/limits-overview.html", "status": "official", "date": GATHERED},
    {"id": "s3.notification_delivery_s", "value": 1.0, "unit": "seconds", "item": "S3 event notification, object created -> message in the queue (AWS: \"typically in seconds but can sometimes take a minute or longer\"; 1 s assumed)",
     "source": "docs.aws.amazon.com/AmazonS3/latest/userguide/NotificationHowTo.html", "status": "assumption", "date": GATHERED},
    {"id": "lambda.cold_start_s", "value": 0.5, "unit": "seconds", "item": "a new execution environment of the builder (Python 3.11 with boto3) before its first batch (not published; 0.5 s assumed)",
     "source": "docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html (the Init phase)", "status": "assumption", "date": GATHERED},
    {"id": "glue.pythonshell_startup_s", "value": 30.0, "unit": "seconds", "item": "Glue Python shell run, StartJobRun -> the script running (not published; 30 s assumed)",
     "source": "docs.aws.amazon.com/glue/latest/dg/add-job-python.html (no start-up figure)", "status": "assumption", "date": GATHERED},
    {"id": "glue.pythonshell_cpu_factor", "value": 1.0, "unit": "x one core of the measuring machine", "item": "converter speed in a 0.0625-DPU Python shell run against one core here (such a run reports 1 CPU, 1 DPU reports 4)",
     "source": "a public test of Python shell capacities (gist, 2020); the core's speed against AWS's not measured", "status": "assumption", "date": GATHERED},
]
