"""The suites run against servers that scripts/test-python starts (addresses and secrets in the environment)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("HEXFLEET_HTTP"):
        skip = pytest.mark.skip(reason="run through scripts/test-python, which starts hexfleet serve")
        for item in items:
            item.add_marker(skip)
