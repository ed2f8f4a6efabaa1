#!/usr/bin/env bash
# Make this machine able to run the compose test (tests/compose/test_compose.py): a Docker engine
# and compose from Debian's packages, the engine started, and local stand-ins for the two images
# the MiniStack profile builds on, for machines where no image registry is reachable:
#   python:3.11-slim-bookworm       Debian bookworm (debootstrapped from Debian's packages, imported as
#                                   local/bookworm) with its Python 3.11 in a venv at /usr/local and this
#                                   machine's CA bundle (package downloads go through its TLS proxy)
#   ministackorg/ministack:<pin>    MiniStack and boto3 from PyPI at the project's pins, on the above
# An image already present under either name (a real one pulled from a registry) is used as it is.
# Idempotent: a second run reuses the packages, the engine, the base image and Docker's build cache.
#
#   sudo tests/compose/prepare.sh [--started-file FILE]
#
# --started-file FILE: when this run starts dockerd, its pid goes to FILE (so a caller that wants to
# leave the machine as it found it stops exactly that engine); nothing is written otherwise.
# Environment: DEBIAN_MIRROR (default: the first bookworm URI apt uses), SIM_COMPOSE_CACHE (default
# /var/cache/sim-compose: debootstrap's .debs and the engine's log).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
started_file=
if [ "${1:-}" = --started-file ]; then started_file=$2; fi
cache=${SIM_COMPOSE_CACHE:-/var/cache/sim-compose}
t0=$SECONDS
say() { echo "compose-prepare [$((SECONDS - t0)) s]: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  say "error: run as root (installs packages and starts dockerd)"
  exit 1
fi
mkdir -p "$cache/debs"

# 1. Packages (Debian's: docker.io 20.10, docker-compose 1.29, debootstrap).
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. The engine.
if docker info >/dev/null 2>&1; then
  say "using the Docker engine already running"
else
  say "starting dockerd (log: $cache/dockerd.log)"
  dockerd >"$cache/dockerd.log" 2>&1 &
  pid=$!
  [ -n "$started_file" ] && echo "$pid" >"$started_file"
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    if ! kill -0 "$pid" 2>/dev/null; then
      say "error: dockerd exited; last lines of its log:"; tail -n 20 "$cache/dockerd.log" >&2; exit 1
    fi
    sleep 1
  done
  docker info >/dev/null 2>&1 || { say "error: dockerd did not answer within 60 s (log: $cache/dockerd.log)"; exit 1; }
fi

has_image() { docker image inspect "$1" >/dev/null 2>&1; }
# build TAG DOCKERFILE CONTEXT [ARGS...]: its output goes to a log, shown when it fails.
build() {
  local tag=$1 file=$2 context=$3 log
  shift 3
  log="$cache/build-$(echo "$tag" | tr '/:' '__').log"
  docker build -t "$tag" -f "$file" "$@" "$context" >"$log" 2>&1 \
    || { say "error: building $tag failed; last lines of $log:"; tail -n 30 "$log" >&2; exit 1; }
}
stand_in() { [ -n "$(docker image inspect -f '{{index .Config.Labels "org.sim.stand-in"}}' "$1" 2>/dev/null)" ]; }

# 3. local/bookworm: a minimal Debian 12 from Debian's packages.
if has_image python:3.11-slim-bookworm && ! stand_in python:3.11-slim-bookworm; then
  say "python:3.11-slim-bookworm is a real image here; no stand-in needed"
else
  if ! has_image local/bookworm:latest; then
    mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' \
      /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null || true)}
    mirror=${mirror:-http://deb.debian.org/debian}
    rootfs=$(mktemp -d /tmp/sim-bookworm.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    say "debootstrapping bookworm from $mirror (about a minute)"
    debootstrap --variant=minbase --cache-dir="$cache/debs" \
      --include=python3,python3-venv,ca-certificates,passwd \
      bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
      || { say "error: debootstrap failed; see $cache/debootstrap.log"; tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' \
      --change 'LABEL org.sim.stand-in=debian:bookworm' - local/bookworm:latest >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
  fi
  # 4. The python stand-in; Docker's build cache makes this instant when nothing changed.
  ctx=$(mktemp -d /tmp/sim-python-standin.XXXXXX)
  trap 'rm -rf "$ctx"' EXIT
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  say "building the python:3.11-slim-bookworm stand-in"
  build python:3.11-slim-bookworm "$here/python-standin.Dockerfile" "$ctx"
  rm -rf "$ctx"
  trap - EXIT
fi

# 5. The MiniStack stand-in, at the versions pyproject.toml pins.
pin() { sed -n "s/.*\"$1==\([0-9.]*\)\".*/\1/p" "$root/pyproject.toml" | head -n 1; }
ministack=$(pin ministack) boto3=$(pin boto3) botocore=$(pin botocore)
image=ministackorg/ministack:$ministack
if has_image "$image" && ! stand_in "$image"; then
  say "$image is a real image here; no stand-in needed"
else
  say "building the $image stand-in"
  build "$image" "$here/ministack-standin.Dockerfile" "$here" --build-arg MINISTACK_VERSION="$ministack" \
    --build-arg BOTO3_VERSION="$boto3" --build-arg BOTOCORE_VERSION="$botocore"
fi
say "ready: python:3.11-slim-bookworm and $image"
