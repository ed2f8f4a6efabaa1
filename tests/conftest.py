import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        path = str(item.fspath)
        if "/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/packaging/" in path:
            item.add_marker(pytest.mark.packaging)
