"""Check the pipeline's output against its input, record by record, and its state end to end."""
