"""Pure rules of the builder's state: the order of S3 events for one key."""

from sim.pipeline.state import newer_sequencer


def test_sequencers_of_equal_length_compare_as_hex():
    assert newer_sequencer("0A", "09")
    assert not newer_sequencer("09", "0A")
    assert newer_sequencer("0055B3A0F2B8E1A2B5", "0055b3a0f2b8e1a2b4")  # case does not matter
    assert not newer_sequencer("0055B3A0F2B8E1A2B5", "0055B3A0F2B8E1A2B5")


def test_a_shorter_sequencer_is_right_padded_with_zeros_as_the_s3_user_guide_says():
    # The S3 User Guide (event message structure): "first right pad the shorter value with zeros,
    # and then do a lexicographical comparison". Left padding would order both pairs the other way.
    assert newer_sequencer("FF", "100")  # FF -> FF0 > 100
    assert not newer_sequencer("100", "FF")
    assert newer_sequencer("0055AED6DCD90281F", "0055AED6DCD90281E5")  # ...F0 > ...E5: the shorter is newer
    # The longer one newer: the shorter pads to ...E0, which is older than ...E6.
    assert newer_sequencer("0055AED6DCD90281E6", "0055AED6DCD90281E")
    assert not newer_sequencer("0055AED6DCD90281E", "0055AED6DCD90281E6")
    # Equal after padding: neither is newer (the same event).
    assert not newer_sequencer("0A", "0A00") and not newer_sequencer("0A00", "0A")
