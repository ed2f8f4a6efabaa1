"""Code that runs in AWS: the manifest builder Lambda, the converter and their entry points.

This package imports nothing from the rest of `sim` (it is zipped alone and deployed); only the
standard library, boto3 and pyarrow, which the Lambda and Glue runtimes provide.
"""
