"""The fault and long abuse runs (scripts/test-faults): each test starts its own `hexfleet serve`."""
import os
import sys

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "python"))


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("HEXFLEET_BIN"):
        skip = pytest.mark.skip(reason="run through scripts/test-faults, which names the hexfleet binary")
        for item in items:
            item.add_marker(skip)
