"""When an output checked while the run drained still stands in the final verdict
(sim/validate/early.py): only while nothing it read has changed."""

from sim.validate.early import Checked, Early, reusable, still_valid
from sim.validate.inventory import Inventory, ObjectInfo
from sim.validate.records import RIN_SCHEMA, ROUT_SCHEMA, Unit, UnitResult

OUT = "parquet/date=2026-12-07/manifest=m1.parquet"


def checked(own=("a", "b"), read=None, output_etag="o1") -> Checked:
    result = UnitResult(RIN_SCHEMA.empty_table(), ROUT_SCHEMA.empty_table(), output_etag=output_etag,
                        read_etags=dict(read if read is not None else {"a": "ea", "b": "eb"}))
    return Checked(Unit(OUT, "m1", list(own)), result)


def inventory(landed=None, output_etag="o1") -> Inventory:
    inv = Inventory()
    for key, etag in (landed if landed is not None else {"a": "ea", "b": "eb"}).items():
        inv.landed[key] = ObjectInfo(key, etag, 10)
    if output_etag is not None:
        inv.outputs[OUT] = ObjectInfo(OUT, output_etag, 100)
    return inv


WHOLE = Unit(OUT, "m1", ["a", "b"], frozenset())


def test_unchanged_stands():
    assert still_valid(checked(), WHOLE, inventory(), set())


def test_a_rewritten_output_does_not():
    assert not still_valid(checked(), WHOLE, inventory(output_etag="o2"), set())
    assert not still_valid(checked(), WHOLE, inventory(output_etag=None), set())
    assert not still_valid(checked(output_etag=None), WHOLE, inventory(), set())


def test_a_landed_object_overwritten_deleted_or_back_does_not():
    assert not still_valid(checked(), WHOLE, inventory({"a": "ea", "b": "eb2"}), set())
    assert not still_valid(checked(), WHOLE, inventory({"a": "ea"}), set())
    # read while it was gone; landed since
    gone = checked(read={"a": "ea", "b": None})
    assert still_valid(gone, WHOLE, inventory({"a": "ea"}), set())
    assert not still_valid(gone, WHOLE, inventory({"a": "ea", "b": "eb"}), set())


def test_a_row_of_another_key_read_then_changed_does_not():
    # the output held rows of "z" (listed by no manifest of it): "z" was read for them
    c = checked(read={"a": "ea", "b": "eb", "z": "ez"})
    assert still_valid(c, WHOLE, inventory({"a": "ea", "b": "eb", "z": "ez"}), set())
    assert not still_valid(c, WHOLE, inventory({"a": "ea", "b": "eb", "z": "ez2"}), set())
    assert not still_valid(c, WHOLE, inventory({"a": "ea", "b": "eb", "z": "ez"}), {"z"})


def test_other_files_counted_or_a_key_set_aside_since_do_not():
    assert not still_valid(checked(own=("a", "b", "c")), WHOLE, inventory(), set())
    assert not still_valid(checked(), Unit(OUT, "m2", ["a", "b"]), inventory(), set())
    assert not still_valid(checked(), WHOLE, inventory(), {"a"})
    assert not still_valid(checked(read={"a": "ea"}), WHOLE, inventory({"a": "ea"}), set())  # b never read


def test_reusable_keeps_only_what_stands_and_what_the_plan_still_has():
    early = Early(checked={"m1": checked(), "m9": checked()})
    assert set(reusable(early, [WHOLE], inventory(), set())) == {"m1"}
    assert reusable(early, [WHOLE], inventory(output_etag="o2"), set()) == {}
    assert reusable(None, [WHOLE], inventory(), set()) == {}


def test_the_plan_leaves_keys_an_early_check_counts_to_it():
    from sim.validate.records import plan_units

    landed = {"a": 1, "b": 1, "c": 1, "loose": 1}
    docs = {"m1": {"files": [{"key": "a"}, {"key": "b"}]}, "m2": {"files": [{"key": "b"}, {"key": "c"}]}}
    units = plan_units(landed, {"m2": "out2"}, docs, set(), taken={"a", "b"})
    assert sorted((u.output_key or "", u.own) for u in units) == [("", ["loose"]), ("out2", ["c"])]


def test_digests_made_early_cover_an_object_only_while_its_etag_is_listed():
    from sim.validate.hashing import LANDED, Result
    from sim.validate.multiset import Hashed

    early = Hashed([Result(LANDED.empty_table(), name="a"), Result(LANDED.empty_table(), name="b")],
                   etags={"a": "ea", "b": "eb"})
    listed = {"a": 10, "b": 10}
    assert early.covers(listed, {"a": "ea", "b": "eb"}) == {"a", "b"}
    assert early.covers(listed, {"a": "ea", "b": "eb2"}) == {"a"}  # b rewritten since
    assert early.covers({"a": 10}, {"a": "ea"}) == {"a"}  # b gone
    # made by this validation's own record pass (no ETag kept): covers what is listed
    assert Hashed([Result(LANDED.empty_table(), name="a")]).covers(listed, {}) == {"a"}
