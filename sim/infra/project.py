"""The objects every command needs: the workdir, the engine it talks to, the pipeline under test
(its description), names and settings.

`sim deploy` records the settings it deployed (batch size, flush wait, log level, target) in the
workdir, per pipeline, so later commands (`demo`, `flush`, `status`) agree with what runs.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from functools import cached_property
from pathlib import Path

from sim.core import workdir as wd
from sim.engine import ministack
from sim.engine import profiles
from sim.engine.target import Target, resolve
from sim.infra import description
from sim.infra.spec import Names, Settings

DEPLOY_FILE = "deploy.json"
_SETTING_KEYS = ("batch_size", "flush_max_wait_s", "flush_schedule", "log_level", "environment")


class Project:
    def __init__(self, workdir: str | None = None, endpoint: str | None = None, target: str | None = None,
                 pipeline: str | Path | None = None):
        self.workdir: Path = wd.resolve(workdir)
        self._endpoint = endpoint
        self._target_name = target
        self.pipeline = description.load(pipeline)  # None: sim's own
        self.names = Names.of(self.pipeline)

    @cached_property
    def target(self) -> Target:
        return resolve(self.workdir, self._endpoint, self._target_name)

    def engine(self) -> ministack.EngineState | None:
        return ministack.load_state(self.workdir)

    @property
    def embedded(self) -> bool:
        """True when commands should run the embedded engine themselves (no endpoint given)."""
        profile = profiles.profile(self._target_name or "ministack")
        return (self._endpoint is None and not os.environ.get("SIM_ENDPOINT") and profile.emulator
                and profile.default_endpoint is None)

    def settings(self, **overrides) -> Settings:
        """Settings for this target and pipeline: saved ones from its last deploy, then explicit
        overrides. Fields the description sets are filled in by the Wiring (Settings.described)."""
        last = wd.read_json(self.workdir / DEPLOY_FILE) or {}
        saved = {}
        if last.get("target") == self.target.name and last.get("prefix", self.names.prefix) == self.names.prefix:
            saved = {k: v for k, v in last.get("settings", {}).items() if k in _SETTING_KEYS}
        saved.update({k: v for k, v in overrides.items() if v is not None})
        if overrides.get("environment") and not overrides.get("log_level"):
            saved.pop("log_level", None)  # a new environment brings its own default level
        if self.target.profile.lambda_uses_host_python and "telemetry_file" not in saved:
            saved["telemetry_file"] = str(self.telemetry_file())
        return Settings(target=self.target.name, **saved)

    def run_fields(self) -> dict:
        """What a run folder's run.json records of the pipeline it ran, so `sim report` reads the run
        with that pipeline's settings and resource names."""
        return {"pipeline": str(self.pipeline.path), "pipeline_name": self.pipeline.name,
                "pipeline_own": self.pipeline.own, "prefix": self.names.prefix}

    def telemetry_file(self) -> Path:
        """Per-invocation AWS call counts appended by the pipeline on the embedded engine."""
        return self.workdir / "telemetry.jsonl"

    def remember(self, settings: Settings) -> None:
        data = {k: v for k, v in asdict(settings).items() if k in _SETTING_KEYS and v is not None}
        wd.write_json(self.workdir / DEPLOY_FILE, {"target": self.target.name, "endpoint": self.target.endpoint,
                                                   "prefix": self.names.prefix, "pipeline": str(self.pipeline.path),
                                                   "settings": data})

    def deployer(self, settings: Settings | None = None, progress=None):
        """The Deployer of this project's pipeline with these settings (default: as saved)."""
        from sim.infra.deploy import Deployer

        return Deployer(self.target, settings or self.settings(), progress=progress, cache_dir=self.cache_dir(),
                        pipeline=self.pipeline, names=self.names)

    def wiring(self, settings: Settings | None = None):
        """The wiring as this project deploys it (no change is made)."""
        return self.deployer(settings).wiring

    def cache_dir(self) -> Path:
        return self.workdir / "cache"
