"""The `sim` app, built fresh from its areas: every command of the contract is there, and every
command takes the shared options."""

from __future__ import annotations

import subprocess
import sys

import typer

from sim.cli import build_app

CONTRACT = {"up", "down", "deploy", "destroy", "status", "flush", "validate", "demo", "land", "load", "bench",
            "report", "scenario list", "scenario run", "redrive", "check"}


def leaves(group, prefix: str = "") -> dict:
    """Every runnable command of a click group, by its path under `sim`."""
    out = {}
    for name, cmd in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            out.update(leaves(cmd, path + " "))
        else:
            out[path] = cmd
    return out


def options(cmd) -> set[str]:
    return {opt for p in cmd.params for opt in getattr(p, "opts", [])}


def test_a_fresh_app_holds_every_command_of_the_contract():
    first, second = typer.main.get_command(build_app()), typer.main.get_command(build_app())
    assert first is not second
    commands = leaves(first)
    assert set(commands) == CONTRACT
    assert set(leaves(second)) == CONTRACT  # building it again neither loses nor doubles a command


def test_every_command_takes_json_and_workdir():
    missing = {path: sorted({"--json", "--workdir"} - options(cmd))
               for path, cmd in leaves(typer.main.get_command(build_app())).items()
               if not {"--json", "--workdir"} <= options(cmd)}
    assert missing == {}


def test_commands_that_reach_an_engine_take_endpoint():
    commands = leaves(typer.main.get_command(build_app()))
    offline = {"down", "report", "scenario list"}  # they talk to no engine's endpoint
    assert [p for p, c in commands.items() if p not in offline and "--endpoint" not in options(c)] == []


def test_python_dash_m_sim_is_the_same_app():
    proc = subprocess.run([sys.executable, "-m", "sim", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for name in ("up", "demo", "land", "load", "bench", "report", "scenario", "check", "redrive"):
        assert f" {name} " in proc.stdout


def test_bad_input_is_one_error_line_and_a_bug_keeps_its_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim", "demo", "--file-size", "lots", "--workdir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == ["error: not a size: 'lots' (try 3.5MB, 256KB or a number of bytes)"]
    proc = subprocess.run([sys.executable, "-m", "sim", "load", "--profile", "weekly", "--json",
                           "--workdir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "unknown profile 'weekly'" in proc.stderr and "Traceback" not in proc.stderr
