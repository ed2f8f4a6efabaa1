"""log-hygiene: the right LOG_LEVEL everywhere, and no record content or canary in any log.

Canaries ride in generated records and in every kind of bad input (malformed, invalid UTF-8, an
array, NaN, a gzip stream cut short, plain text named .gz, a key overwritten after its manifest), and
in values the converter keeps as JSON text (numbers no typed column holds, a field of two types).
"""

import io
import json
import logging
import re
import zlib

from sim.infra.spec import Settings, Wiring
from sim.pipeline import convert_manifest
from sim.workload.generator import CANARY_MARK

NAME = "log-hygiene"
ORDER = 5
DESCRIPTION = ("LOG_LEVEL is INFO in production, DEBUG elsewhere, overrides are honoured; across runs with "
               "planted canaries no log of the builder, the converter or the engine holds record content")
FILES = 10
# Numbers no typed column can hold unchanged: kept as JSON text, so they must not surface in a log.
NUMBER_CANARIES = ("4242424242424242424242", "0.12121212121212121212121")


def _levels(ctx) -> dict:
    """What each environment deploys, read back from the engine where it is deployed."""
    lam, glue = ctx.target.client("lambda"), ctx.target.client("glue")
    out = {}
    for label, overrides in (("production", {"environment": "production"}),
                             ("development", {"environment": "development"}),
                             ("override", {"environment": "production", "log_level": "WARNING"})):
        ctx.redeploy(**overrides)
        env = lam.get_function_configuration(FunctionName=ctx.names.builder_function)["Environment"]["Variables"]
        job = glue.get_job(JobName=ctx.names.glue_job)["Job"]["DefaultArguments"]
        out[label] = {"builder": env.get("LOG_LEVEL"), "glue": job.get("--LOG_LEVEL")}
    aws = Wiring("123456789012", "us-east-1", Settings(target="aws", log_level=""))
    out["aws_target_default"] = {"builder": aws.builder_environment()["LOG_LEVEL"]}
    return out


def _leaks(text: str) -> list[str]:
    found = []
    # Canary values and the personal-data block, and an S3 event dump (its "eventName" field).
    for pattern in (CANARY_MARK, CANARY_MARK.lower(), "example.invalid", '"personal"', '"eventName"', *NUMBER_CANARIES):
        if pattern in text:
            found.append(pattern)
    return found


def _canary_lines(n: int) -> bytes:
    return "".join(json.dumps({"email": f"{CANARY_MARK}-{i}@example.invalid"}) + "\n" for i in range(n)).encode()


def _bad_inputs() -> dict[str, bytes]:
    """Every kind of bad input that reaches the quarantine, each carrying a canary."""
    z = zlib.compressobj(wbits=31)
    cut = z.compress(_canary_lines(3) + ('{"email": "' + CANARY_MARK + '-cut').encode()) + z.flush(zlib.Z_SYNC_FLUSH)
    return {
        "bad/2026-11-25/leaky.ndjson": ('{"ok": 1}\n{"email": "' + CANARY_MARK + '@example.invalid", broken\n').encode(),
        "bad/2026-11-25/bad-utf8.ndjson": b'{"email": "' + CANARY_MARK.encode() + b'\xff@example.invalid"}\n',
        "bad/2026-11-25/array.ndjson": ('["' + CANARY_MARK + '@example.invalid"]\n').encode(),
        "bad/2026-11-25/cut.ndjson.gz": cut,
        "bad/2026-11-25/not-gzip.ndjson.gz": _canary_lines(2),
        "bad/2026-11-25/overwritten.ndjson": b'{"ok": 2}\n',
        "bad/2026-11-25/nan.ndjson": ('{"email": "' + CANARY_MARK + '-nan@example.invalid", "v": NaN}\n').encode(),
        "bad/2026-11-25/numbers.ndjson": (f'{{"n": {NUMBER_CANARIES[0]}}}\n{{"n": {NUMBER_CANARIES[1]}}}\n'
                                          f'{{"e": "{CANARY_MARK}-text@example.invalid"}}\n{{"e": 1}}\n').encode(),
    }


def _generic(ctx):
    """Any pipeline: a production-environment run of generated records and every kind of bad input,
    each carrying canaries; no log line, job error or alert may hold one."""
    start_mark = ctx.log_mark()
    ctx.fresh(environment="production")
    ctx.land_generated(FILES, size=4096, seed=41, prefix="prod")
    bad = _bad_inputs()
    ctx.land(bad)
    ctx.wait(FILES + len(bad), stall_timeout_s=120)
    runs = ctx.target.client("glue").get_job_runs(JobName=ctx.names.glue_job)["JobRuns"]
    errors = " ".join(r.get("ErrorMessage", "") for r in runs)
    leaks = {"engine_log": _leaks(ctx.log_since(start_mark)), "glue_error_messages": _leaks(errors)}
    findings = [f"{where} holds {', '.join(found)}" for where, found in leaks.items() if found]
    evidence = {"bad_inputs": sorted(bad), "leaks": leaks,
                "log_levels": "not judged: which level a pipeline sim did not write logs at is its own"}
    return ctx.verdict(not any(leaks.values()), evidence, findings)


def run(ctx):
    if not ctx.own:
        return _generic(ctx)
    start_mark = ctx.log_mark()
    ctx.fresh(environment="production")
    levels = _levels(ctx)

    # A production run: no DEBUG line, no event dump, no canary.
    ctx.redeploy(environment="production")
    mark = ctx.log_mark()
    ctx.land_generated(FILES, size=4096, seed=41, prefix="prod")
    ctx.wait(FILES)
    prod_log = ctx.log_since(mark)
    prod_debug = len(re.findall(r"^DEBUG (manifest_builder|converter)", prod_log, re.M))

    # A development run: DEBUG lines appear, still with keys and counts only.
    ctx.redeploy(environment="development")
    mark = ctx.log_mark()
    ctx.land_generated(FILES, size=4096, seed=42, prefix="dev")
    ctx.wait(2 * FILES)
    dev_log = ctx.log_since(mark)
    dev_debug = len(re.findall(r"^DEBUG manifest_builder", dev_log, re.M))

    # Bad input holding canaries: quarantined (stored, not logged); the alert path stays clean.
    cw = ctx.target.client("cloudwatch")
    for what in ("quarantined-records", "quarantined-files", "overwritten-files"):
        cw.set_alarm_state(AlarmName=ctx.names.alarm(what), StateValue="OK", StateReason="scenario step")
    inbox = ctx.inbox()
    bad = _bad_inputs()
    ctx.land(bad)
    ctx.wait(2 * FILES + len(bad))
    overwritten = "bad/2026-11-25/overwritten.ndjson"
    ctx.land({overwritten: _canary_lines(2)})  # after its manifest: recorded and alarmed, not logged
    ctx.until(lambda: "overwritten_etag" in ctx.file_item("2026-11-25", overwritten), timeout=60,
              what="the overwrite to be recorded")
    for what in ("quarantined-records", "overwritten-files"):
        ctx.await_alarm(inbox, ctx.names.alarm(what))

    # The converter's own log at DEBUG, captured while it reconverts the bad file's manifest (idempotent).
    # A converter run writes nothing for a manifest that already succeeded, so each is set back to
    # `started` for the rerun, as a redrive leaves it, and recorded succeeded again after.
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    conv = logging.getLogger("converter")
    old_level = conv.level
    old_propagate = conv.propagate
    conv.addHandler(handler)
    conv.setLevel(logging.DEBUG)
    conv.propagate = False
    try:
        s3, ddb = ctx.target.client("s3"), ctx.target.client("dynamodb")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=ctx.names.output_bucket, Prefix="manifests/")["Contents"]]
        for key in keys:
            listed = s3.get_object(Bucket=ctx.names.output_bucket, Key=key)["Body"].read().decode()
            if any(json.dumps(k)[1:-1] in listed for k in bad):
                doc = json.loads(listed)
                item_key = {"date_prefix": {"S": doc["date_prefix"]}, "file_key": {"S": f"MANIFEST#{doc['manifest_id']}"}}
                _set_status(ddb, ctx.names.table, item_key, "started")
                try:
                    convert_manifest.run(ctx.names.output_bucket, key, ctx.names.output_bucket, ctx.names.table,
                                         s3=s3, dynamodb=ctx.target.session.resource("dynamodb",
                                                                                     endpoint_url=ctx.target.endpoint))
                finally:
                    _set_status(ddb, ctx.names.table, item_key, "succeeded")
    finally:
        conv.removeHandler(handler)
        conv.setLevel(old_level)
        conv.propagate = old_propagate
    converter_log = captured.getvalue()

    runs = ctx.target.client("glue").get_job_runs(JobName=ctx.names.glue_job)["JobRuns"]
    errors = " ".join(r.get("ErrorMessage", "") for r in runs)
    telemetry = ctx.project.telemetry_file().read_text() if ctx.project.telemetry_file().exists() else ""
    engine_log = ctx.log_since(start_mark)
    leaks = {
        "engine_log": _leaks(engine_log),
        "converter_log": _leaks(converter_log),
        "glue_error_messages": _leaks(errors),
        "sns_messages": _leaks(" ".join(inbox.received)),
        "telemetry": _leaks(telemetry),
    }
    evidence = {
        "log_levels": levels,
        "production_debug_lines": prod_debug,
        "development_debug_lines": dev_debug,
        "converter_log_lines": len(converter_log.splitlines()),
        "converter_logged_the_quarantine": "quarantined" in converter_log and "line=2" in converter_log,
        "bad_inputs": sorted(bad),
        "alerts_received": len(inbox.received),
        "leaks": leaks,
    }
    levels_ok = (levels["production"] == {"builder": "INFO", "glue": "INFO"}
                 and levels["development"] == {"builder": "DEBUG", "glue": "DEBUG"}
                 and levels["override"] == {"builder": "WARNING", "glue": "WARNING"}
                 and levels["aws_target_default"]["builder"] == "INFO")
    passed = (levels_ok and prod_debug == 0 and dev_debug > 0 and evidence["converter_logged_the_quarantine"]
              and len(inbox.received) >= 2 and not any(leaks.values()))
    return ctx.verdict(bool(passed), evidence)


def _set_status(ddb, table: str, key: dict, status: str) -> None:
    ddb.update_item(TableName=table, Key=key, UpdateExpression="SET #s = :s",
                    ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": status}})
