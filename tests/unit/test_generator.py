import json

from sim.pipeline.events import is_landing_key
from sim.workload.generator import CANARY_MARK, generate_file


def test_same_seed_same_bytes_other_seed_other_bytes():
    a, b, c = generate_file(1, 3, 64 * 1024), generate_file(1, 3, 64 * 1024), generate_file(2, 3, 64 * 1024)
    assert a.body == b.body and a.key == b.key
    assert a.body != c.body


def test_files_stay_within_the_target_size_and_parse():
    f = generate_file(5, 0, 100 * 1024)
    assert 90 * 1024 < len(f.body) <= 100 * 1024
    records = [json.loads(line) for line in f.body.decode().splitlines()]
    assert len(records) == f.records
    assert len({r["event_id"] for r in records}) == f.records


def test_records_have_production_shape_and_canaries():
    f = generate_file(9, 1, 256 * 1024, date_prefix="2026-03-04")
    records = [json.loads(line) for line in f.body.decode().splitlines()]
    assert all(r["occurred_at"].startswith("2026-03-04") for r in records)
    assert all(isinstance(r["device"]["screen"], dict) and isinstance(r["items"], list) for r in records)
    assert all(CANARY_MARK in r["personal"]["full_name"] for r in records)
    assert any("coupon" in r for r in records) and any("coupon" not in r for r in records)
    assert any(any(ord(ch) > 127 for ch in r["note"] + r["geo"]["city"]) for r in records)
    assert "2026-03-04" in f.key and is_landing_key(f.key)


def test_some_keys_need_url_decoding():
    keys = [generate_file(1, i, 1024).key for i in range(40)]
    assert any(" " in k and "+" in k for k in keys)


def test_some_records_carry_the_shapes_a_careless_converter_changes():
    f = generate_file(9, 2, 512 * 1024)
    records = [json.loads(line) for line in f.body.decode().splitlines()]
    assert any(r.get("attributes") == {} for r in records)
    assert any(r.get("ledger_id", 0) > 2**63 for r in records)
    assert any(r.get("local_time", "").endswith(("+02:00", "-05:30", "+00:00")) for r in records)
    assert any(len(repr(r.get("ratio", ""))) >= 18 for r in records)
