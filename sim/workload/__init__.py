"""Production-shaped NDJSON: a seeded generator and uploads of it into the landing bucket."""
