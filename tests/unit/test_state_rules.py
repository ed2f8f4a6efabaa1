"""Pure rules of the builder's state: the order of S3 events for one key."""

from sim.pipeline.state import newer_sequencer


def test_sequencers_compare_as_hex_of_equal_length():
    assert newer_sequencer("0A", "09")
    assert not newer_sequencer("09", "0A")
    assert newer_sequencer("100", "FF")  # shorter values are left-padded, not compared as text
    assert not newer_sequencer("FF", "100")
    assert newer_sequencer("0055B3A0F2B8E1A2B5", "0055b3a0f2b8e1a2b4")  # case does not matter
    assert not newer_sequencer("0055B3A0F2B8E1A2B5", "0055B3A0F2B8E1A2B5")
