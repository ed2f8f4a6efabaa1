"""The scan beside the converter's parse: which lines hold a number a double could change."""

from sim.pipeline.records import _scan


def test_the_scan_marks_exactly_the_lines_a_double_could_change():
    lines = [
        b'{"a": 1}',
        b'{"a": NaN}',  # not JSON: quarantined later
        b"",
        b'{"a": 0.30000000000000004}',  # 17 digits, but the double prints back as this: no closer look
        b'{"a": 0.10000000000000001}\r',  # 17 digits the double does not keep
        b'{"a": [1, 1e400]}',  # beyond a double's range
        b'{"a": 3.141592653589793, "b": -Infinity}',
        b'{"a": 3.141592653589793}',
        b'{"s": "x:NaN"}',  # inside a string: a closer look, never a wrong value
    ]
    utf8, hot, split = _scan(b"\n".join(lines))
    assert (utf8, hot) == (True, {1, 4, 5, 6, 8})
    assert split.to_pylist() == lines  # the lines to parse again are taken from here, CR and all
    assert _scan(b"\n".join(lines[:1] + lines[3:4]) + b"\n")[:2] == (True, set())


def test_invalid_utf8_is_found_before_anything_else():
    assert _scan(b'{"a": 1}\n{"s": "\xff"}\n{"a": NaN}\n') == (False, set(), None)


def test_how_lines_open_decides_what_the_json_reader_may_see():
    from sim.pipeline.records import line_openings

    # "plain": every line opens an object at once, so none is blank and rows match lines by count.
    assert line_openings(b'{"a": 1}\n{"a": 2}\n') == "plain"
    assert line_openings(b'{"a": 1}\r\n{"a": 2}') == "plain"
    # "spaced": blank lines or white space before an object; rows are matched to non-blank lines.
    for spaced in (b'{"a": 1}\n\n{"a": 2}\n', b'{"a": 1}\n \t\r\n', b'  {"a": 1}\n', b'{"a": 1}\n\r\n{}'):
        assert line_openings(spaced) == "spaced", spaced
    # "odd": a line opening with no object. Above all a top-level null: the reader takes it for a
    # row of nulls, and crashes the process when it opens a block of its input (apache/arrow#47409).
    for odd in (b'null\n{"a": 1}\n', b'{"a": 1}\nnull\n', b'{"a": 1}\n \tnull\n', b'{"a": 1}\n[1]\n',
                b'{"a": 1}\n\x0c\n', b'{"a": 1}\n\xef\xbb\xbf{}\n', b'{"a": 1}\n"s"'):
        assert line_openings(odd) == "odd", odd
