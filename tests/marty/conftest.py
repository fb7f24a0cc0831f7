import pytest

from symba.physics.marty import bridge_installed

SKIP_REASON = "MARTY bridge symba_marty not installed (see cpp/marty_bindings/README.md)"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``marty`` need the bridge: skip them, with the reason, when it is absent."""
    if bridge_installed():
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("marty") is not None:
            item.add_marker(skip)
