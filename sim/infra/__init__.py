"""The pipeline's wiring as data, and an idempotent deploy of it through boto3."""
