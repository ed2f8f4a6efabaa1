"""The embedded engine comes back on the port its saved state is bound to."""

import json

from sim.engine import ministack


def test_the_port_file_wins_then_the_last_deploy_then_none(tmp_path):
    assert ministack._last_port(tmp_path) is None
    (tmp_path / "deploy.json").write_text(json.dumps({"endpoint": "http://127.0.0.1:40123"}))
    assert ministack._last_port(tmp_path) == 40123
    (tmp_path / ministack.PORT_FILE).write_text(json.dumps({"port": 41000}))
    assert ministack._last_port(tmp_path) == 41000


def test_an_engine_someone_else_runs_is_not_a_port_to_reuse(tmp_path):
    (tmp_path / "deploy.json").write_text(json.dumps({"endpoint": "http://localhost:4566"}))
    assert ministack._last_port(tmp_path) is None
