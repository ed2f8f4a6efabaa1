"""A clean virtual environment holding only what the AWS Lambda runtime provides (boto3)."""

import subprocess
import venv
from importlib.metadata import version


def boto3_only_venv(tmp_path_factory):
    """Create it and return its python. Each test module makes its own: some add packages to it."""
    root = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True, clear=True).create(root)
    py = root / "bin" / "python"
    pins = [f"boto3=={version('boto3')}", f"botocore=={version('botocore')}"]
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins], check=True)
    return py
