"""In-process builders of `sim`'s own pipeline, for the scenarios and tests that drive its code
directly (a race of several builders on one pending pool)."""

from __future__ import annotations

from sim.pipeline.builder import Builder, BuilderSettings


def builder_settings(wiring, **overrides) -> BuilderSettings:
    """The deployed builder's settings (table, buckets, state machine, batch size)."""
    env = wiring.builder_environment()
    base = dict(
        table=env["TABLE_NAME"],
        manifest_bucket=env["MANIFEST_BUCKET"],
        state_machine_arn=env["STATE_MACHINE_ARN"],
        batch_size=int(env["MANIFEST_BATCH_SIZE"]),
    )
    base.update(overrides)
    return BuilderSettings(**base)


def clients(target) -> dict:
    return {
        "dynamodb": target.session.resource("dynamodb", endpoint_url=target.endpoint),
        "s3": target.client("s3"),
        "sfn": target.client("stepfunctions"),
    }


def in_process_builder(target, wiring, cls=Builder, **kwargs) -> Builder:
    """The builder's real code, run here against the engine (for crash points and races)."""
    settings = builder_settings(wiring, **kwargs.pop("settings", {}))
    return cls(settings, **clients(target), **kwargs)
