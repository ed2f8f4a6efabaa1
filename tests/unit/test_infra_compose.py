"""docker-compose.yml and the Dockerfile say what the design says (syntax: `docker-compose config` in CI).

No Docker engine is needed: the files are read as data. What they wire is checked against the code
they drive: the deployer's command line, the landing bucket's name, the locustfile's options.
"""

import re
from pathlib import Path

import pytest
import yaml

from sim.infra.spec import DEFAULT_PREFIX, Names

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def env_of(service: dict) -> dict:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def test_localstack_is_pinned_overridable_and_can_run_lambdas(compose):
    ls = compose["services"]["localstack"]
    assert ls["image"] == "localstack/localstack:${LOCALSTACK_VERSION:-4.14.0}"
    assert "profiles" not in ls  # `docker compose up` starts it
    env = env_of(ls)
    assert "LOCALSTACK_AUTH_TOKEN" in env and env["LOCALSTACK_AUTH_TOKEN"] is None  # passed through, never set here
    assert any(v.endswith(":/var/run/docker.sock") for v in ls["volumes"])
    assert env["LAMBDA_DOCKER_NETWORK"] == compose["networks"]["sim"]["name"]
    assert "/_localstack/health" in " ".join(ls["healthcheck"]["test"])
    assert "engine" in ls["networks"]["sim"]["aliases"]


def test_ministack_profile_replaces_localstack_behind_the_same_name(compose):
    ms = compose["services"]["ministack"]
    assert ms["profiles"] == ["ministack"]
    assert re.fullmatch(r"ministackorg/ministack:\$\{MINISTACK_VERSION:-\d+\.\d+\.\d+\}", ms["image"])
    pinned = re.search(r"ministack==([\d.]+)", (ROOT / "pyproject.toml").read_text()).group(1)
    assert ms["image"].endswith(f":-{pinned}}}")  # the image is the same MiniStack the tests run
    env = env_of(ms)
    assert env["LAMBDA_EXECUTOR"] == "docker" and env["LAMBDA_DOCKER_NETWORK"] == compose["networks"]["sim"]["name"]
    assert any(v.endswith(":/var/run/docker.sock") for v in ms["volumes"])
    assert "engine" in ms["networks"]["sim"]["aliases"] and "/_ministack/health" in " ".join(ms["healthcheck"]["test"])
    # no service needs one engine by name, so naming the others leaves LocalStack out
    for name, svc in compose["services"].items():
        assert not set(svc.get("depends_on", {})) & {"localstack", "ministack"}, name


def test_deploy_is_one_shot_lambda_wiring_against_the_engine(compose):
    d = compose["services"]["deploy"]
    assert d["build"]["dockerfile"] == "Dockerfile" and d["restart"] == "no"
    cmd = d["command"]
    assert cmd[:2] == ["sim", "deploy"]
    assert cmd[cmd.index("--target") + 1] == "localstack" and cmd[cmd.index("--endpoint") + 1] == "http://engine:4566"
    assert float(cmd[cmd.index("--wait") + 1]) > 0


def _locustfile_env_vars() -> set[str]:
    return set(re.findall(r'env_var="(SIM_LOAD_[A-Z_]+)"', (ROOT / "loadtests" / "locustfile.py").read_text()))


def test_locust_master_and_workers_run_the_mounted_locustfile_against_the_landing_bucket(compose):
    master, worker = compose["services"]["locust-master"], compose["services"]["locust-worker"]
    for svc in (master, worker):
        assert svc["depends_on"]["deploy"]["condition"] == "service_completed_successfully"
        mount = next(v for v in svc["volumes"] if v.startswith("./loadtests:"))
        target = mount.split(":")[1]
        assert env_of(svc)["LOCUST_LOCUSTFILE"] == f"{target}/locustfile.py"
    assert (ROOT / "loadtests" / "locustfile.py").exists()
    m = env_of(master)
    assert m["LOCUST_MODE_MASTER"] == "true" and m["LOCUST_HOST"] == "http://engine:4566"
    # the deployer names the buckets from SIM_PREFIX; Locust is given the same name
    assert m["SIM_LOAD_BUCKET"] == "${SIM_PREFIX:-%s}-landing" % DEFAULT_PREFIX
    assert f"{DEFAULT_PREFIX}-landing" == Names(DEFAULT_PREFIX).landing_bucket
    assert "SIM_PREFIX" in compose["services"]["deploy"]["environment"]
    assert env_of(worker)["LOCUST_MASTER_NODE_HOST"] == "locust-master" and env_of(worker)["LOCUST_MODE_WORKER"] == "true"
    # the master splits the schedule over as many workers as run
    assert m["LOCUST_EXPECT_WORKERS"] == "${LOCUST_WORKERS:-2}" and worker["deploy"]["replicas"] == "${LOCUST_WORKERS:-2}"


def test_every_load_option_the_master_passes_is_one_the_locustfile_reads(compose):
    passed = {k for k in env_of(compose["services"]["locust-master"]) if k.startswith("SIM_LOAD_")}
    known = _locustfile_env_vars()
    assert known, "no SIM_LOAD_* options found in the locustfile"
    assert passed <= known, passed - known
    # per-process knobs stay local; everything that shapes the load can be set from outside
    assert known - passed <= {"SIM_LOAD_UPLOAD_LOG", "SIM_LOAD_POOL_FILES", "SIM_LOAD_POOL_MB"}, known - passed


def test_image_prebuilds_the_converter_bundle_and_ignores_local_state():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-", dockerfile, re.M)  # the Python the project pins
    assert "python -m sim.infra.bundle" in dockerfile and "SIM_WORKDIR" in dockerfile
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", ".sim", "reports"} <= ignored
    assert not {"sim", "pyproject.toml", "README.md", "loadtests", "scenarios"} & ignored


def test_image_carries_what_sim_commands_read_outside_the_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    env = dict(re.findall(r"\b(SIM_[A-Z_]+)=(\S+)", dockerfile))
    copied = dict((src, dst) for src, dst in re.findall(r"^COPY (\w+) (\S+)$", dockerfile, re.M))
    workdir = re.search(r"^WORKDIR (\S+)$", dockerfile, re.M).group(1)
    # the scenario registry and `sim load` find their files through these variables in the image
    assert env["SIM_SCENARIOS_DIR"] == f"{workdir}/{copied['scenarios'].removeprefix('./')}"
    assert env["SIM_LOCUSTFILE"] == f"{workdir}/{copied['loadtests'].removeprefix('./')}/locustfile.py"
