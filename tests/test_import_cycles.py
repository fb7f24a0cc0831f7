"""The import graph of symba has no cycle (tools/import_cycles.py), and the tool finds one."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "import_cycles.py"


def _run(src: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), str(src)], capture_output=True, text=True, timeout=60)


def test_symba_has_no_import_cycle():
    result = _run(ROOT / "src")
    assert result.returncode == 0, result.stdout


def test_a_cycle_through_a_lazy_import_is_found(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import g\n\ndef f():\n    return g()\n")
    (package / "b.py").write_text("def g():\n    from .a import f\n    return f\n")
    (package / "c.py").write_text("from . import a\n")  # imports a submodule, not the package
    result = _run(tmp_path)
    assert result.returncode == 1
    assert result.stdout.strip() == "pkg.a <-> pkg.b"
