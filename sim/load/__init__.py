"""Load replay with Locust against the landing bucket, and `sim bench`."""
