import pytest

from sim.core.errors import SimError
from sim.workload.sizes import parse_size


@pytest.mark.parametrize("text,value", [("3.5MB", 3670016), ("256KB", 262144), ("64k", 65536), ("100", 100),
                                        ("1 GiB", 1073741824)])
def test_parse_size(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "abc", "3.5XB", "0", "-1MB"])
def test_bad_sizes_are_rejected(text):
    with pytest.raises(SimError):
        parse_size(text)
