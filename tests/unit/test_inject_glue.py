"""The Glue side of the bundle without an engine: argv rebuilt as AWS Glue passes it, the
getResolvedOptions stand-in behaving as AWS's, the argument names found in a state machine, and the
launcher running a local script in a real subprocess (exit codes, `exit` rules, the environment)."""

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile

import pytest

from sim.inject import bundle, glue_args
from sim.inject.awsglue_utils import GlueArgumentError, getResolvedOptions
from sim.inject.rules import InjectError


# -- argv ---------------------------------------------------------------------------------------
def test_argv_is_rebuilt_from_the_environment_in_the_named_order():
    env = {"SIM_USER_SCRIPT": "s3://a/job.py", "SIM_ARG_NAMES": "output_bucket,extra-py-files,manifest_key,absent",
           "output_bucket": "out", "manifest_key": "m/1.json", "extra-py-files": "s3://a/x.zip", "PATH": "/bin",
           "SIM_JOB_NAME": "conv", "SIM_FAULTS": "{}", "unrelated": "no"}
    args = glue_args.job_arguments(["/tmp/sim_glue_launcher.py"], env)
    assert args == [("SIM_USER_SCRIPT", "s3://a/job.py"), ("SIM_ARG_NAMES", env["SIM_ARG_NAMES"]),
                    ("SIM_JOB_NAME", "conv"), ("SIM_FAULTS", "{}"), ("output_bucket", "out"),
                    ("extra-py-files", "s3://a/x.zip"), ("manifest_key", "m/1.json")]
    assert glue_args.script_argv("/tmp/g/job.py", args) == [
        "/tmp/g/job.py", "--SIM_FAULTS", "{}", "--output_bucket", "out", "--extra-py-files", "s3://a/x.zip",
        "--manifest_key", "m/1.json", "--JOB_NAME", "conv"]


def test_argv_given_as_glue_gives_it_is_kept_and_job_name_not_doubled():
    argv = ["launcher.py", "--JOB_NAME", "real", "--k", "--starts-with-dashes", "--SIM_USER_SCRIPT", "s3://a/j.py",
            "--SIM_JOB_NAME", "other"]
    args = glue_args.job_arguments(argv, {"k": "from-env"})
    assert args == [("JOB_NAME", "real"), ("k", "--starts-with-dashes"), ("SIM_USER_SCRIPT", "s3://a/j.py"),
                    ("SIM_JOB_NAME", "other")]
    assert glue_args.script_argv("j.py", args) == ["j.py", "--JOB_NAME", "real", "--k", "--starts-with-dashes"]


@pytest.mark.parametrize("argv, message", [(["l.py", "--a"], "pairs"), (["l.py", "a", "b"], "is not a --name")])
def test_argv_that_is_not_pairs_is_one_clear_error(argv, message):
    with pytest.raises(InjectError, match=message):
        glue_args.job_arguments(argv, {})


def test_names_are_listed_without_dashes_once_each():
    assert glue_args.names_from(" --a,b,,--a, c ") == ["a", "b", "c"]


def test_only_the_variables_ministack_added_for_arguments_are_dropped():
    env = {"output_bucket": "out", "AWS_REGION": "us-east-1", "PATH": "/bin", "changed": "later"}
    args = [("output_bucket", "out"), ("AWS_REGION", "us-east-1"), ("PATH", "/bin"), ("changed", "first")]
    assert glue_args.environment_to_drop(args, env) == ["output_bucket"]


# -- getResolvedOptions, as AWS's awsglue.utils behaves -------------------------------------------
def test_resolved_options_hold_what_was_asked_and_glues_own_defaults():
    got = getResolvedOptions(["job.py", "--JOB_NAME", "j", "--day", "1", "--extra", "x", "--day", "2"], ["JOB_NAME", "day"])
    assert got["JOB_NAME"] == "j" and got["day"] == "2"  # a repeated argument: the last value
    assert got["job_bookmark_option"] == "job-bookmark-disable"
    assert got["JOB_RUN_ID"] is None and got["TempDir"] is None and "extra" not in got
    assert "continuation_option" not in got


def test_a_missing_option_raises_glues_argument_error():
    with pytest.raises(GlueArgumentError, match="the following arguments are required: --JOB_NAME, --day"):
        getResolvedOptions(["job.py", "--other", "1"], ["JOB_NAME", "day"])


def test_job_name_is_optional_unless_asked_for_and_the_id_parameters_are_reserved():
    assert getResolvedOptions(["job.py", "--JOB_RUN_ID", "jr_1"], [])["JOB_RUN_ID"] == "jr_1"
    for reserved, shown in (("JOB_RUN_ID", "--JOB_RUN_ID"), ("job-bookmark-option", "job-bookmark-option"),
                            ("job-bookmark-from", "--job-bookmark-from"), ("encryption-type", "--encryption-type")):
        with pytest.raises(RuntimeError, match="Using reserved arguments " + shown):
            getResolvedOptions(["job.py"], [reserved])


def test_an_option_asked_for_twice_is_argparses_conflict():
    import argparse

    with pytest.raises(argparse.ArgumentError, match="conflicting option string"):
        getResolvedOptions(["job.py", "--a", "1"], ["a", "a"])


def test_temp_dirs_mirror_each_other_and_are_never_required():
    assert getResolvedOptions(["job.py", "--TempDir", "s3://t/"], ["TempDir"])["RedshiftTempDir"] == "s3://t/"
    assert getResolvedOptions(["job.py", "--RedshiftTempDir", "s3://r/"], [])["TempDir"] == "s3://r/"
    assert getResolvedOptions(["job.py"], ["TempDir"])["TempDir"] is None


def test_bookmark_options_and_their_old_continuation_names():
    assert getResolvedOptions(["j", "--continuation-option", "continuation-enabled"], [])["job_bookmark_option"] == \
        "job-bookmark-enable"
    with pytest.raises(GlueArgumentError, match="invalid choice"):
        getResolvedOptions(["j", "--job-bookmark-option", "job-bookmark-maybe"], [])
    with pytest.raises(RuntimeError, match="Missing option or value for --job-bookmark-to"):
        getResolvedOptions(["j", "--job-bookmark-option", "job-bookmark-pause", "--job-bookmark-from", "1"], [])
    with pytest.raises(RuntimeError, match=r"Invalid option\(s\)--job-bookmark-from --job-bookmark-to"):
        getResolvedOptions(["j", "--job-bookmark-from", "1", "--job-bookmark-to", "2"], [])


def test_dashed_names_come_back_with_underscores():
    assert getResolvedOptions(["j", "--output-bucket", "o"], ["output-bucket"])["output_bucket"] == "o"


# -- the names a deploy gives the launcher -------------------------------------------------------
ASL = {"StartAt": "P", "States": {
    "P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Convert", "States": {"Convert": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:startJobRun", "End": True,
            "Parameters": {"JobName": "j", "Arguments": {"--manifest_key.$": "$.key", "--mode": "full"}}}}},
        {"StartAt": "Sync", "States": {"Sync": {
            "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync", "End": True,
            "QueryLanguage": "JSONata",
            "Arguments": {"JobName": "j", "Arguments": {"--date": "{% $states.input.date %}"}}}}},
        {"StartAt": "Other", "States": {"Other": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
            "Parameters": {"Arguments": {"--not_glue": "x"}}}}}]}}}


def test_argument_names_come_from_the_defaults_and_every_start_job_run_task():
    names = bundle.glue_argument_names({"--output_bucket": "o", "library-set": "analytics", "--mode": "x"}, json.dumps(ASL))
    assert names == ["output_bucket", "library-set", "mode", "manifest_key", "date"]


def test_arguments_given_as_one_path_cannot_be_named_and_say_where():
    asl = {"StartAt": "C", "States": {"C": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun",
                                            "End": True, "Parameters": {"JobName": "j", "Arguments.$": "$.args"}}}}
    with pytest.raises(InjectError, match=r"\$\.States\.C: the Glue run's Arguments come from one path"):
        bundle.glue_argument_names({}, asl)


def test_the_launchers_default_arguments():
    args = bundle.glue_default_arguments("s3://a/user/job.py", ["--output_bucket", "mode", "--mode"], "conv", '{"x": 1}')
    assert args == {"--SIM_USER_SCRIPT": "s3://a/user/job.py", "--SIM_ARG_NAMES": "output_bucket,mode",
                    "--SIM_JOB_NAME": "conv", "--SIM_FAULTS": '{"x": 1}'}
    with pytest.raises(InjectError, match="must be an s3:// URI"):
        bundle.glue_default_arguments("/local/job.py", [])


# -- the launcher in a real process ----------------------------------------------------------------
USER_SCRIPT = textwrap.dedent("""
    import json, os, sys
    from awsglue.utils import getResolvedOptions
    args = getResolvedOptions(sys.argv, ["JOB_NAME", "out"])
    with open(args["out"], "w") as fh:
        json.dump({"argv": sys.argv, "name": __name__, "file": __file__, "path0": sys.path[0],
                   "job_name": args["JOB_NAME"], "env_out": os.environ.get("out")}, fh)
    code = os.environ.get("EXIT_WITH")
    if code:
        sys.exit(int(code))
""")


@pytest.fixture(scope="module")
def bundle_zip(tmp_path_factory):
    path = tmp_path_factory.mktemp("bundle") / "sim_inject.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in bundle.bundle_entries():
            zf.writestr(name, data)
    path.write_bytes(buf.getvalue())
    return path


def launch(tmp_path, bundle_zip, exit_with=None, faults=None, arguments=None):
    """The launcher as MiniStack starts it: `arguments` are more job arguments (named in SIM_ARG_NAMES)."""
    script = tmp_path / "user_job.py"
    script.write_text(USER_SCRIPT)
    launcher = tmp_path / bundle.LAUNCHER_NAME
    launcher.write_bytes(bundle.launcher_bytes())
    out = tmp_path / "out.json"
    env = {"PATH": os.environ["PATH"], "extra-py-files": str(bundle_zip), "SIM_USER_SCRIPT": str(script),
           "SIM_ARG_NAMES": ",".join(["extra-py-files", "out", *(arguments or {})]), "SIM_JOB_NAME": "conv",
           "out": str(out), **(arguments or {})}
    env.update({"EXIT_WITH": exit_with} if exit_with else {})
    env.update({"SIM_FAULTS": faults} if faults else {})
    proc = subprocess.run([sys.executable, str(launcher)], env=env, capture_output=True, text=True, timeout=60)
    return proc, (json.loads(out.read_text()) if out.exists() else None)


def test_the_launcher_runs_the_script_as_glues_python_shell_does(tmp_path, bundle_zip):
    proc, seen = launch(tmp_path, bundle_zip)
    assert proc.returncode == 0, proc.stderr
    script = str(tmp_path / "user_job.py")
    assert seen["argv"] == [script, "--extra-py-files", str(bundle_zip), "--out", str(tmp_path / "out.json"),
                            "--JOB_NAME", "conv"]
    assert (seen["name"], seen["file"], seen["path0"], seen["job_name"]) == ("__main__", script, str(tmp_path), "conv")
    assert seen["env_out"] is None  # an argument is not an environment variable on AWS


def test_the_scripts_exit_code_is_the_jobs(tmp_path, bundle_zip):
    proc, seen = launch(tmp_path, bundle_zip, exit_with="3")
    assert proc.returncode == 3 and seen is not None


def test_a_kill_at_exit_comes_after_the_scripts_work(tmp_path, bundle_zip):
    faults = json.dumps({"state_dir": str(tmp_path / "state"),
                         "rules": [{"process": "converter", "action": "kill", "when": "exit"}]})
    proc, seen = launch(tmp_path, bundle_zip, faults=faults)
    assert proc.returncode == -signal.SIGKILL and seen["job_name"] == "conv"


def telemetry_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize("exit_with, ok", [(None, True), ("0", True), ("3", False)])
def test_with_telemetry_on_a_run_writes_one_line_and_the_script_does_not_see_the_switch(tmp_path, bundle_zip,
                                                                                        exit_with, ok):
    path = tmp_path / "telemetry.jsonl"
    proc, seen = launch(tmp_path, bundle_zip, exit_with=exit_with, arguments={
        "manifest_id": "m-7", "SIM_INJECT_TELEMETRY": "1", "SIM_TELEMETRY_FILE": str(path)})
    assert proc.returncode == int(exit_with or 0), proc.stderr
    [line] = telemetry_lines(path)
    assert (line["component"], line["ok"], line["runtime"], line["manifest_id"]) == ("converter", ok, "glue", "m-7")
    assert line["calls"] == {} and line["pid"] > 0 and line["duration_ms"] >= 0
    assert not any(a.startswith("--SIM_") for a in seen["argv"]) and "--manifest_id" in seen["argv"]


def test_without_the_switch_no_line_and_the_telemetry_file_stays_an_argument(tmp_path, bundle_zip):
    """`sim`'s own Glue entry is started by the launcher too and reads --SIM_TELEMETRY_FILE itself."""
    path = tmp_path / "telemetry.jsonl"
    proc, seen = launch(tmp_path, bundle_zip, arguments={"SIM_TELEMETRY_FILE": str(path)})
    assert proc.returncode == 0, proc.stderr
    assert telemetry_lines(path) == [] and seen["argv"][-4:-2] == ["--SIM_TELEMETRY_FILE", str(path)]


def test_a_converter_killed_at_exit_has_written_its_line_as_sims_own_has(tmp_path, bundle_zip):
    path = tmp_path / "telemetry.jsonl"
    faults = json.dumps({"state_dir": str(tmp_path / "state"),
                         "rules": [{"process": "converter", "action": "kill", "when": "exit"}]})
    proc, _ = launch(tmp_path, bundle_zip, faults=faults, arguments={
        "SIM_INJECT_TELEMETRY": "1", "SIM_TELEMETRY_FILE": str(path)})
    assert proc.returncode == -signal.SIGKILL
    assert [l["ok"] for l in telemetry_lines(path)] == [True]


def test_the_launcher_says_in_one_line_what_is_missing(tmp_path, bundle_zip):
    launcher = tmp_path / bundle.LAUNCHER_NAME
    launcher.write_bytes(bundle.launcher_bytes())
    base = {"PATH": os.environ["PATH"]}
    no_bundle = subprocess.run([sys.executable, str(launcher)], env=base, capture_output=True, text=True, timeout=60)
    assert no_bundle.returncode == 2 and no_bundle.stderr.startswith("error: the sim_inject bundle is not in")
    no_script = subprocess.run([sys.executable, str(launcher)], env={**base, "extra-py-files": str(bundle_zip)},
                               capture_output=True, text=True, timeout=60)
    assert no_script.returncode == 2 and no_script.stderr.strip() == \
        "error: the launcher needs --SIM_USER_SCRIPT, the s3:// URI of the job's own script"
    assert len(no_script.stderr.strip().splitlines()) == 1
