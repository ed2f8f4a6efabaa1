"""One definition of a line (sim/pipeline/lines.py), read the same by the converter, `sim validate`
and `sim land`'s pre-check: only LF ends a line, a CR before it is not part of it, a line of JSON
white space is blank, and a UTF-8 byte order mark is skipped at the start of a file only."""

import gzip
import io

import pyarrow.parquet as pq
import pytest

from sim.pipeline.converter import Source, convert
from sim.pipeline.lines import BOM, first_line, is_blank, read_chunks, split_lines
from sim.workload.localfiles import sniff
from tests.unit.localvalidation import lines_in, record_pass


class Trickle(io.RawIOBase):
    """A stream that hands out at most `n` bytes per read, as a slow socket may."""

    def __init__(self, data: bytes, n: int = 1):
        self.data, self.n = data, n

    def read(self, size=-1):
        out, self.data = self.data[:min(self.n, size if size >= 0 else self.n)], self.data[min(self.n, size if size >= 0 else self.n):]
        return out


def lines_of(data: bytes, **kwargs) -> list[tuple[int, bytes]]:
    out = []
    for chunk in read_chunks(io.BytesIO(data) if "stream" not in kwargs else kwargs.pop("stream"), **kwargs):
        out += list(zip(*split_lines(chunk)))
    return out


def test_a_blank_line_holds_json_white_space_only():
    for blank in (b"", b" ", b"\t", b"\r", b" \t\r\t "):
        assert is_blank(blank), blank
    for not_blank in (b"\x0c", b"\x0b", b"\x00", BOM, b"\xc2\xa0", b" x "):  # none is JSON white space
        assert not is_blank(not_blank), not_blank


def test_a_bom_at_the_start_of_a_file_is_not_part_of_its_first_line():
    assert lines_of(BOM + b'{"a":1}\n{"a":2}\n') == [(1, b'{"a":1}'), (2, b'{"a":2}')]
    assert lines_of(BOM) == [] and lines_of(BOM + b"\n\n") == []
    assert lines_of(BOM + b"\n" + BOM + b"{}") == [(2, BOM + b"{}")]  # past the start it is a byte of its line
    assert lines_of(b"x" + BOM) == [(1, b"x" + BOM)]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_the_bom_is_found_whatever_the_stream_hands_out_per_read(n):
    data = BOM + b'{"a":1}\r\n\n{"a":2}'
    expected = [(1, b'{"a":1}'), (3, b'{"a":2}')]
    assert lines_of(b"", stream=Trickle(data, n)) == expected
    assert lines_of(b"", stream=Trickle(data, n), chunk_bytes=n) == expected
    assert lines_of(b"", stream=Trickle(b"\xef\xbb" + b'{"a":1}', n)) == [(1, b'\xef\xbb{"a":1}')]  # not a BOM


def test_only_lf_ends_a_line_and_a_cr_before_it_is_not_part_of_it():
    assert lines_of(b'{"a":1}\r\n{"a":2}\r{"a":3}\n\r\n \t\n{"a":4}\r') == [
        (1, b'{"a":1}'), (2, b'{"a":2}\r{"a":3}'), (5, b'{"a":4}')]


def test_the_first_line_is_found_as_the_converter_finds_it():
    assert first_line(BOM + b"\r\n \t\n[1]\n{}", whole=True) == (3, b"[1]", True)
    assert first_line(b'\n{"a": 1', whole=False) == (2, b'{"a": 1', False)  # the head ends inside it
    assert first_line(b'\n{"a": 1}', whole=True) == (2, b'{"a": 1}', True)
    assert first_line(BOM + b"\n \n", whole=True) is None


# A file holding every kind of line the definition names: a BOM, CRLF, blank lines of JSON white
# space, a form feed (not white space), a CR without LF between two objects, a BOM past the start.
TRICKY = (BOM + b'{"a": 1}\r\n'  # 1: a row (the BOM is not part of it)
          b' \t\r\n'  # 2: blank
          b'\x0c\n'  # 3: not blank, not JSON: quarantined
          b'{"a": 2}\r{"a": 3}\n'  # 4: one line holding two objects: quarantined
          b'\n'  # 5: blank, right after a line the JSON reader reads as two rows
          + BOM + b'{"a": 4}\n'  # 6: a BOM past the start of the file: quarantined
          b'{"a": 5}')  # 7: a row, no final newline


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("chunk_bytes", [16 * 1024 * 1024, 64, 9])
def test_converter_and_validation_read_the_same_lines(tmp_path, chunk_bytes, gz):
    key = "in/2026-11-25/tricky.ndjson" + (".gz" if gz else "")
    body = gzip.compress(TRICKY) if gz else TRICKY
    out = str(tmp_path / "o.parquet")
    result = convert([Source(key, lambda: io.BytesIO(body))], "m", out, chunk_bytes=chunk_bytes)
    table = pq.read_table(out)
    assert table.column("_line").to_pylist() == [1, 7] and table.column("a").to_pylist() == [1, 5]
    assert sorted(q.line for q in result.quarantined) == [3, 4, 6]
    checked = record_pass({key: body}, out, "m")
    assert lines_in(checked) == [(key, n) for n in (1, 3, 4, 6, 7)]
    assert (checked.compared, checked.altered) == (2, 0)


def test_the_land_pre_check_reads_a_bom_file_as_the_converter_does(tmp_path):
    for name, body in (("bom.ndjson", BOM + b'{"a": 1}\n'), ("bom.ndjson.gz", gzip.compress(BOM + b'{"a": 1}\n')),
                       ("tricky.ndjson", TRICKY), ("blank-first.jsonl", b"\r\n \t\n" + b'{"a": 1}\n')):
        (tmp_path / name).write_bytes(body)
        assert sniff(tmp_path / name) == "", name


def test_the_land_pre_check_names_the_first_line_the_converter_quarantines_and_why(tmp_path):
    cases = {
        "array.json": (b"\n \n[1, 2]\n", "line 3", "a JSON array, not an object"),
        "nan.ndjson": (b'{"a": NaN}\n', "line 1", "NaN is not a JSON number"),
        "bom-twice.ndjson": (BOM + BOM + b'{"a": 1}\n', "line 1", "byte order mark inside the file"),
        "feed.ndjson": (b"\x0c\n{}\n", "line 1", "invalid JSON"),
        "long.ndjson": (b"[" + b"1," * 40_000 + b"1]\n", "line 1", "not a JSON object"),  # judged by its start
    }
    for name, (body, where, why) in cases.items():
        (tmp_path / name).write_bytes(body)
        said = sniff(tmp_path / name)
        assert where in said and why in said, (name, said)
    (tmp_path / "long-ok.ndjson").write_bytes(b'{"a": "' + b"x" * 100_000 + b'"}\n')
    assert sniff(tmp_path / "long-ok.ndjson") == ""


def test_validation_does_not_read_a_line_that_opens_with_a_bom_as_json():
    # The standard library reads bytes that open with a BOM as UTF-8-with-BOM; a landed line past
    # the file's start holding one is no JSON (the converter quarantines it), so a row for it is no match.
    from sim.validate import content

    for exact in (False, True):
        with pytest.raises(content.NotJson):
            content.parse(BOM + b'{"a": 1}', exact)
        assert content.parse(b'{"a": "\xef\xbb\xbf"}', exact) == {"a": "\ufeff"}  # inside a string it is text


def test_a_quarantined_crlf_line_is_kept_without_its_cr_on_either_path(tmp_path):
    # NaN is read by the fast reader and refused by the exact check of that one line; a cut line
    # sends its chunk to the exact parser. Either way the raw line is the line, CR not included.
    for body in (b'{"a": 1}\r\n{"a": NaN}\r\n', b'{"a": 1}\r\n{"a": NaN}\r\n{"a": \r\n'):
        result = convert([Source("k.ndjson", lambda: io.BytesIO(body))], "m", str(tmp_path / "o.parquet"))
        assert result.quarantined[0].raw == b'{"a": NaN}', body
