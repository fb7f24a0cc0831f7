import pytest

from symba.physics.marty import bridge_installed

requires_marty = pytest.mark.skipif(
    not bridge_installed(),
    reason="MARTY bridge symba_marty not installed (see cpp/marty_bindings/README.md)",
)
