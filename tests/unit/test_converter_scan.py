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
    utf8, hot, split, blank = _scan(b"\n".join(lines))
    assert (utf8, hot, blank) == (True, {1, 4, 5, 6, 8}, True)
    assert split.to_pylist() == lines  # the lines to parse again are taken from here, CR and all
    assert _scan(b"\n".join(lines[:1] + lines[3:4]) + b"\n")[:2] == (True, set())


def test_the_scan_says_whether_a_line_is_blank_as_the_line_definition_does():
    # The reader's rows are matched to lines by counting only when no line is blank: a line with
    # two values beside a blank one would otherwise give its second row the blank line's number.
    assert _scan(b'{"a": 1}\n{"a": 2}\n')[3] is False  # the empty rest after the last LF is no line
    assert _scan(b'{"a": 1}\n{"a": 2}')[3] is False
    for blank_line in (b"", b" ", b"\t", b"\r", b" \t\r "):
        assert _scan(b'{"a": 1}\n' + blank_line + b'\n{"a": 2}\n')[3] is True, blank_line
    assert _scan(b'{"a": 1}\n\x0c\n{"a": 2}\n')[3] is False  # a form feed is no JSON white space


def test_invalid_utf8_is_found_before_anything_else():
    assert _scan(b'{"a": 1}\n{"s": "\xff"}\n{"a": NaN}\n') == (False, set(), None, False)
