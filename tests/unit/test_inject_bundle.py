"""What the deploy puts in a package: the `sim_inject` modules, the same bytes every time, each
importing only the standard library, botocore/boto3 and its own siblings (relatively, since the
package is renamed in the zip)."""

import ast
import sys

from sim.inject import bundle


def test_entries_are_the_zipped_modules_sorted_and_the_same_each_time():
    entries = bundle.bundle_entries()
    assert entries == bundle.bundle_entries()
    names = [n for n, _ in entries]
    assert names == sorted(names) and all(n.startswith("sim_inject/") for n in names)
    assert {"sim_inject/__init__.py", "sim_inject/lambda_wrapper.py", "sim_inject/hooks.py", "sim_inject/rules.py",
            "sim_inject/awsglue_utils.py", "sim_inject/glue_main.py"} <= set(names)
    assert "sim_inject/bundle.py" not in names and f"sim_inject/{bundle.LAUNCHER_NAME}" not in names
    assert bundle.launcher_bytes().startswith(b'"""The Glue job\'s script on emulators')


def test_the_package_reaches_the_deploy_helpers_without_carrying_them():
    import sim.inject

    assert sim.inject.faults_json is bundle.faults_json and sim.inject.WRAPPER_HANDLER == "sim_inject.lambda_wrapper.handler"


def imported(source: str) -> set[str]:
    top = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            top |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            top.add((node.module or "").split(".")[0])
    return top


def test_zipped_modules_import_only_the_standard_library_botocore_and_each_other():
    allowed = set(sys.stdlib_module_names) | {"botocore", "boto3", "__future__"}
    for name, data in bundle.bundle_entries() + [(bundle.LAUNCHER_NAME, bundle.launcher_bytes())]:
        outside = imported(data.decode()) - allowed
        if name == bundle.LAUNCHER_NAME:
            outside -= {"sim_inject"}  # the launcher imports the bundle it put on sys.path
        assert outside == set(), f"{name} imports {outside}"
