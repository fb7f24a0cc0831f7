import pytest

from symba.physics.marty import bridge_status


def pytest_collection_modifyitems(config, items):
    """Tests marked ``marty`` need a bridge that imports: skip them, naming why, when it does not."""
    marked = [item for item in items if item.get_closest_marker("marty") is not None]
    if not marked:
        return
    status = bridge_status()  # a subprocess import, only when a marty test was collected
    if status.loadable:
        return
    skip = pytest.mark.skip(reason=f"MARTY bridge unusable: {status.reason}")
    for item in marked:
        item.add_marker(skip)
