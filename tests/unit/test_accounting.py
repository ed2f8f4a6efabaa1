"""Record accounting with real DuckDB: planted faults must be counted exactly."""

import pyarrow as pa

from sim.validate.accounting import account


def rin(*pairs):
    return pa.table({"key": pa.array([k for k, _ in pairs], pa.string()), "line": pa.array([n for _, n in pairs], pa.int64())})


def rout(rows, file_mid):
    """rows: (key, line, mid); `file_mid` is what the output file's name says."""
    return pa.table({"key": pa.array([r[0] for r in rows], pa.string()), "line": pa.array([r[1] for r in rows], pa.int64()),
                     "mid": pa.array([r[2] for r in rows], pa.string()),
                     "file_mid": pa.array([file_mid] * len(rows), pa.string())})


def rq(*pairs):
    return rin(*pairs)


def test_clean_run_balances():
    acc = account(rin(("k/a", 1), ("k/a", 3)), rout([("k/a", 1, "m"), ("k/a", 3, "m")], "m"), rq())
    assert (acc.records_in, acc.records_out, acc.duplicates, acc.missing, acc.unexpected, acc.wrong_manifest) == (
        2, 2, 0, 0, 0, 0)


def test_duplicates_missing_unexpected_and_wrong_manifest_are_counted():
    out = pa.concat_tables([rout([("a", 1, "m1"), ("a", 2, "m1"), ("a", 2, "m1")], "m1"),
                            rout([("a", 1, "m2"), ("zzz", 9, "other")], "m2")])
    acc = account(rin(("a", 1), ("a", 2), ("a", 3), ("b", 1)), out, rq())
    assert acc.records_in == 4 and acc.records_out == 5
    assert acc.duplicates == 2  # a:1 twice (two manifests), a:2 twice (one manifest)
    assert acc.missing == 2  # a:3 and b:1
    assert acc.unexpected == 1  # zzz:9
    assert acc.wrong_manifest == 1
    assert {"key": "b", "line": 1} in acc.examples["missing"]


def test_keys_with_glob_characters_are_safe():
    acc = account(rin(("in/[x]*?.ndjson", 1)), rout([("in/[x]*?.ndjson", 1, "m")], "m"), rq())
    assert acc.missing == 0 and acc.records_in == 1


def test_quarantined_lines_balance_the_account_and_count_once():
    lines = rin(("a", 1), ("a", 2), ("a", 3))
    q = rq(("a", 2), ("gone", None))
    acc = account(lines, rout([("a", 1, "m"), ("a", 3, "m")], "m"), q)
    assert (acc.records_in, acc.records_out, acc.quarantined, acc.missing, acc.duplicates) == (3, 2, 1, 0, 0)
    assert acc.quarantined_files == ["gone"]
    # A line both converted and quarantined is a duplicate.
    assert account(lines, rout([("a", 1, "m"), ("a", 2, "m"), ("a", 3, "m")], "m"), q).duplicates == 1


def test_keys_set_aside_are_left_out_on_every_side_and_their_rows_counted():
    lines = rin(("a", 1), ("over", 1), ("over", 2), ("over", 3))  # the new content: three lines
    out = rout([("a", 1, "m"), ("over", 1, "m"), ("over", 2, "m")], "m")  # two rows of the old were converted
    plain = account(lines, out, rq())
    assert plain.missing == 1  # without setting it aside the overwrite looks like a lost record
    acc = account(lines, out, rq(), set_aside={"over"})
    assert (acc.records_in, acc.records_out, acc.missing, acc.unexpected, acc.set_aside_rows) == (1, 1, 0, 0, 2)


def test_only_keys_overwritten_after_their_manifest_with_other_content_are_set_aside():
    from sim.validate.inventory import Inventory, ObjectInfo
    from sim.validate.run import overwritten_keys

    inv = Inventory(
        landed={k: ObjectInfo(k, etag, 1) for k, etag in
                (("same", "e1"), ("changed", "e2"), ("refreshed", "e3"), ("never", "e4"))},
        file_items={"same": {"etag": "e1", "overwritten_etag": "e9"},  # overwritten, then put back as it was
                    "changed": {"etag": "e1", "overwritten_etag": "e2"},
                    "refreshed": {"etag": "e3"},  # new content while pending: converted as it is now
                    "never": {"etag": "e4"},
                    "deleted": {"etag": "e5", "overwritten_etag": "e6"}})
    assert overwritten_keys(inv) == {"changed"}


def test_examples_are_the_first_by_key_name_and_line_whatever_order_the_keys_came_in():
    # keys met in reverse name order: their integer ids sort the other way round
    landed = [(k, n) for k in ("z", "m", "b") for n in range(9, 0, -1)]
    acc = account(rin(*landed), rout([("z", 1, "m")], "m"), rq(("q", None), ("m", 4)))
    assert acc.missing == 25 and acc.quarantined == 1 and acc.quarantined_files == ["q"]
    assert acc.examples["missing"] == [{"key": "b", "line": n} for n in range(1, 6)]
    acc = account(rin(("z", 1), ("a", 1)), rout([("z", 1, "m"), ("a", 1, "m")] * 2, "m"), rq())
    assert acc.examples["duplicates"] == [{"key": "a", "line": 1}, {"key": "z", "line": 1}]


def _dictionary_chunks(table: pa.Table, size: int) -> pa.Table:
    """The table as the record pass sends it: text columns dictionary-encoded, in chunks of
    `size` rows whose dictionaries differ."""
    pieces = []
    for at in range(0, table.num_rows, size):
        piece = table.slice(at, size)
        pieces.append(pa.table({n: (piece.column(n).combine_chunks().dictionary_encode() if piece.column(n).type == pa.string()
                                    else piece.column(n)) for n in piece.column_names}))
    return pa.concat_tables(pieces)


def test_dictionary_encoded_names_are_counted_as_text_is():
    landed = rin(*[(k, n) for k in ("z", "m", "b", "in/[x]") for n in range(1, 6)], (None, 1))
    out = pa.concat_tables([rout([("z", 1, "m1"), ("z", 1, "m1"), ("m", 2, "m2"), ("q", 3, "m1")], "m1"),
                            rout([("b", 5, "m2"), ("in/[x]", 1, "m2"), (None, 1, "m2")], "m2")])
    quarantined = rq(("m", 4), ("w", None))
    as_text = account(landed, out, quarantined, set_aside={"b"})
    as_dictionary = account(_dictionary_chunks(landed, 3), _dictionary_chunks(out, 2), _dictionary_chunks(quarantined, 1),
                            set_aside={"b"})
    assert as_dictionary == as_text
    assert (as_text.duplicates, as_text.unexpected, as_text.wrong_manifest, as_text.set_aside_rows) == (1, 1, 1, 1)
