"""sim: a local-first simulator and load-testing harness for one AWS ingestion pipeline."""

__version__ = "0.1.0"
