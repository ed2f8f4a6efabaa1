import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        path = str(item.fspath)
        if "/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/packaging/" in path:
            item.add_marker(pytest.mark.packaging)
        elif "/compose/" in path:
            item.add_marker(pytest.mark.compose)


@pytest.fixture(scope="session", autouse=True)
def _reports_in_tmp(tmp_path_factory):
    """Runs made by tests write their reports/ folders to a temporary place, not the tree."""
    import os

    path = tmp_path_factory.mktemp("reports")
    old = os.environ.get("SIM_REPORTS_DIR")
    os.environ["SIM_REPORTS_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("SIM_REPORTS_DIR", None)
    else:
        os.environ["SIM_REPORTS_DIR"] = old


@pytest.fixture(scope="session", autouse=True)
def _default_resource_names():
    """Tests pin the default names (`sim-ingest-*`): a SIM_PREFIX in the caller's shell must not leak in."""
    import os

    old = os.environ.pop("SIM_PREFIX", None)
    yield
    if old is not None:
        os.environ["SIM_PREFIX"] = old
