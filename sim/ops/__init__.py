"""Operating a live deployment: the project (workdir, target, names, settings) put to work, the
stage counts and the wait for the drain, a fresh pipeline, flush, redrive, the metrics a local
engine lacks, progress; `sim up/down/deploy/destroy/status/flush/redrive`."""
