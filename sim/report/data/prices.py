"""AWS prices, us-east-1, as rows: id, value, unit, what it is, source, date gathered, status.

status: "official" (AWS page), "secondary" (a non-AWS page quoting AWS), "not verified" (figure in
common use, not confirmed when gathered), "assumption" (not in the gathered table; the model needs it).
Override any value with `sim report --price ID=VALUE` or an overrides file.
"""

GATHERED = "2026-11-25"
SOURCE_DOC = "shared/aws/prices-and-quotas.md"

ROWS = [
    # Lambda
    {"id": "lambda.request", "value": 0.20, "unit": "USD per 1M requests", "item": "Lambda requests",
     "source": "aws.amazon.com/lambda/pricing", "status": "secondary", "date": GATHERED},
    {"id": "lambda.gb_s.x86", "value": 0.0000166667, "unit": "USD per GB-second", "item": "Lambda duration, x86",
     "source": "aws.amazon.com/lambda/pricing", "status": "secondary", "date": GATHERED},
    {"id": "lambda.gb_s.arm", "value": 0.0000133334, "unit": "USD per GB-second", "item": "Lambda duration, Arm",
     "source": "aws.amazon.com/lambda/pricing", "status": "secondary", "date": GATHERED},
    {"id": "lambda.free_requests", "value": 1_000_000, "unit": "requests per month", "item": "Lambda free tier requests",
     "source": "aws.amazon.com/lambda/pricing", "status": "secondary", "date": GATHERED},
    {"id": "lambda.free_gb_s", "value": 400_000, "unit": "GB-seconds per month", "item": "Lambda free tier duration",
     "source": "aws.amazon.com/lambda/pricing", "status": "secondary", "date": GATHERED},
    # Glue
    {"id": "glue.dpu_hour", "value": 0.44, "unit": "USD per DPU-hour", "item": "Glue standard (Spark and Python shell)",
     "source": "aws.amazon.com/glue/pricing", "status": "official", "date": GATHERED},
    {"id": "glue.flex_dpu_hour", "value": 0.29, "unit": "USD per DPU-hour", "item": "Glue Flex (Glue 3.0+, G.1X/G.2X)",
     "source": "aws-cdk PR 26203", "status": "secondary", "date": GATHERED},
    {"id": "glue.min_billed_s", "value": 60, "unit": "seconds", "item": "Glue minimum billed duration per run (Glue 2.0+)",
     "source": "aws.amazon.com/glue/pricing", "status": "official", "date": GATHERED},
    # DynamoDB
    {"id": "dynamodb.wru", "value": 0.625, "unit": "USD per 1M write request units", "item": "DynamoDB on-demand writes (since 2024-11-01)",
     "source": "aws.amazon.com/dynamodb/pricing", "status": "secondary", "date": GATHERED},
    {"id": "dynamodb.rru", "value": 0.125, "unit": "USD per 1M read request units", "item": "DynamoDB on-demand reads (since 2024-11-01)",
     "source": "aws.amazon.com/dynamodb/pricing", "status": "secondary", "date": GATHERED},
    {"id": "dynamodb.storage_gb_month", "value": 0.25, "unit": "USD per GB-month", "item": "DynamoDB standard table storage",
     "source": "aws.amazon.com/dynamodb/pricing", "status": "assumption", "date": GATHERED},
    # S3
    {"id": "s3.standard_gb_month", "value": 0.023, "unit": "USD per GB-month", "item": "S3 Standard storage (first 50 TB)",
     "source": "aws.amazon.com/s3/pricing", "status": "secondary", "date": GATHERED},
    {"id": "s3.put", "value": 0.005, "unit": "USD per 1k requests", "item": "S3 PUT, COPY, POST, LIST",
     "source": "aws.amazon.com/s3/pricing", "status": "secondary", "date": GATHERED},
    {"id": "s3.get", "value": 0.0004, "unit": "USD per 1k requests", "item": "S3 GET and other reads",
     "source": "aws.amazon.com/s3/pricing", "status": "secondary", "date": GATHERED},
    {"id": "s3.it_monitoring", "value": 0.0025, "unit": "USD per 1k objects per month", "item": "S3 Intelligent-Tiering monitoring (objects >= 128 KB only)",
     "source": "aws.amazon.com/s3/pricing", "status": "not verified", "date": GATHERED},
    {"id": "s3.it_min_object_kb", "value": 128, "unit": "KB", "item": "S3 Intelligent-Tiering: smaller objects are neither monitored nor moved",
     "source": "aws.amazon.com/s3/pricing", "status": "official", "date": GATHERED},
    {"id": "s3.it_infrequent_gb_month", "value": 0.0125, "unit": "USD per GB-month", "item": "S3 Intelligent-Tiering infrequent tier (after 30 days unread)",
     "source": "aws.amazon.com/s3/pricing", "status": "assumption", "date": GATHERED},
    {"id": "s3.it_archive_instant_gb_month", "value": 0.004, "unit": "USD per GB-month", "item": "S3 Intelligent-Tiering archive instant tier (after 90 days unread)",
     "source": "aws.amazon.com/s3/pricing", "status": "assumption", "date": GATHERED},
    # SQS
    {"id": "sqs.request", "value": 0.40, "unit": "USD per 1M requests (64 KB chunks)", "item": "SQS standard requests",
     "source": "aws.amazon.com/sqs/pricing", "status": "secondary", "date": GATHERED},
    {"id": "sqs.free_requests", "value": 1_000_000, "unit": "requests per month", "item": "SQS free tier",
     "source": "aws.amazon.com/sqs/pricing", "status": "secondary", "date": GATHERED},
    # Step Functions
    {"id": "sfn.transition", "value": 0.025, "unit": "USD per 1k state transitions", "item": "Step Functions standard",
     "source": "aws.amazon.com/step-functions/pricing", "status": "official", "date": GATHERED},
    {"id": "sfn.free_transitions", "value": 4_000, "unit": "transitions per month", "item": "Step Functions free tier",
     "source": "aws.amazon.com/step-functions/pricing", "status": "official", "date": GATHERED},
    # CloudWatch, SNS
    {"id": "logs.ingest_gb", "value": 0.50, "unit": "USD per GB ingested", "item": "CloudWatch Logs ingestion",
     "source": "aws.amazon.com/cloudwatch/pricing", "status": "secondary", "date": GATHERED},
    {"id": "logs.storage_gb_month", "value": 0.03, "unit": "USD per GB-month", "item": "CloudWatch Logs storage",
     "source": "aws.amazon.com/cloudwatch/pricing", "status": "not verified", "date": GATHERED},
    {"id": "cloudwatch.alarm_month", "value": 0.10, "unit": "USD per alarm-month", "item": "CloudWatch standard alarm",
     "source": "aws.amazon.com/cloudwatch/pricing", "status": "not verified", "date": GATHERED},
    {"id": "cloudwatch.custom_metric_month", "value": 0.30, "unit": "USD per metric-month",
     "item": "CloudWatch custom metric (first 10,000)", "source": "aws.amazon.com/cloudwatch/pricing",
     "status": "not verified", "date": GATHERED},
    {"id": "sns.email", "value": 2.00, "unit": "USD per 100k email notifications", "item": "SNS email",
     "source": "aws.amazon.com/sns/pricing", "status": "secondary", "date": GATHERED},
]
