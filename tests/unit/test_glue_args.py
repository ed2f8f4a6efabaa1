from sim.pipeline.glue_entry import parse_args


def test_arguments_from_argv_as_glue_passes_them():
    args = parse_args(["--manifest_key", "m.json", "--flag", "--output_bucket=out", "--job-bookmark-option",
                       "job-bookmark-disable"], {})
    assert args["manifest_key"] == "m.json" and args["output_bucket"] == "out" and args["flag"] == "true"


def test_arguments_from_environment_without_dashes():
    args = parse_args([], {"manifest_key": "k", "table_name": "t", "unrelated": "x"})
    assert args == {"manifest_key": "k", "table_name": "t"}


def test_argv_wins_over_environment():
    assert parse_args(["--manifest_key", "argv"], {"manifest_key": "env"})["manifest_key"] == "argv"
