from sim.pipeline.glue_entry import parse_args


def test_arguments_from_argv_as_glue_passes_them():
    args = parse_args(["--manifest_key", "m.json", "--flag", "--output_bucket=out", "--job-bookmark-option",
                       "job-bookmark-disable"])
    assert args["manifest_key"] == "m.json" and args["output_bucket"] == "out" and args["flag"] == "true"
    assert args["job-bookmark-option"] == "job-bookmark-disable"


def test_a_later_value_of_a_name_wins():
    assert parse_args(["--manifest_key", "first", "--manifest_key", "second"])["manifest_key"] == "second"
