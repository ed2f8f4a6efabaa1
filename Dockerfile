# The `sim` command line and Locust, for docker-compose.yml's `deploy` and `locust-*` services.
# Everything a `sim` command reads besides the package is here too: the scenarios (found through
# SIM_SCENARIOS_DIR), the seed plan's example pipeline they compare against (SIM_EXAMPLES_DIR) and
# the locustfile (SIM_LOCUSTFILE), so `docker run sim-harness:local sim ...` works as it does in a clone.
#
# The converter's Lambda bundle (the pipeline plus pinned manylinux2014 wheels; see
# sim/infra/bundle.py) is built here, at image build time, into the workdir's cache, so that
# `sim deploy --target localstack` downloads nothing when the stack runs.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    SIM_WORKDIR=/var/lib/sim \
    SIM_LOCUSTFILE=/opt/sim/loadtests/locustfile.py \
    SIM_SCENARIOS_DIR=/opt/sim/scenarios \
    SIM_EXAMPLES_DIR=/opt/sim/examples

WORKDIR /opt/sim

# Dependencies first (pinned in pyproject.toml), so a change to the code alone reuses this layer.
COPY pyproject.toml README.md ./
RUN mkdir -p sim && touch sim/__init__.py \
    && pip install . \
    && pip uninstall -y sim \
    && rm -rf sim build

COPY sim ./sim
RUN pip install --no-deps . && rm -rf build

RUN useradd --create-home --uid 1000 sim \
    && mkdir -p "$SIM_WORKDIR" \
    && python -m sim.infra.bundle --cache-dir "$SIM_WORKDIR/cache" \
    && chown -R sim:sim "$SIM_WORKDIR"

COPY loadtests ./loadtests
COPY scenarios ./scenarios
COPY examples ./examples

USER sim
CMD ["sim", "--help"]
