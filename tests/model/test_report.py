"""The headline of a run: the two held-out sides, or the random split's one side; the report
modules and the Snakemake process load no torch."""

import re
import subprocess
import sys
from pathlib import Path

from symba.model.report import headline

ROOT = Path(__file__).resolve().parents[2]


def _side(n, acc):
    return {
        "n_test": n,
        "token_accuracy": acc,
        "sequence_accuracy": acc,
        "numeric_accuracy": acc,
        "selective": {"target_accuracy": 0.999},
        "fallback_at_common_threshold": {
            "coverage": 0.5,
            "threshold": -0.01,
            "accuracy_after_fallback": 1.0,
            "recomputed": 0.5,
        },
    }


EMPTY = {"n_test": 0}


def test_a_random_split_reports_its_own_side():
    lines = headline({"heldout_orderings": EMPTY, "heldout_templates": EMPTY, "heldout_random": _side(17, 0.765)})
    assert len(lines) == 1 and lines[0].startswith("held-out random: n=17 ") and "sequence 0.765" in lines[0]


def test_a_template_split_reports_both_held_out_sides():
    lines = headline({"heldout_orderings": _side(105, 0.99), "heldout_templates": _side(120, 0.0)})
    assert [line.split(":")[0] for line in lines] == ["held-out orderings", "held-out templates"]
    assert "n=105" in lines[0] and "after fallback 1.000 with 50% recomputed" in lines[0]


def _no_torch_after(imports: str):
    code = f"import sys\n{imports}\nassert 'torch' not in sys.modules, 'torch imported'"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)


def test_the_metrics_and_headline_modules_import_no_torch():
    result = _no_torch_after("import symba.model.report, symba.model.metrics")
    assert result.returncode == 0, result.stderr


def test_the_snakefile_imports_no_torch():
    """Every symba import of the Snakefile and its rule files (the Snakemake process itself; the
    jobs' scripts run in processes of their own) leaves torch unloaded."""
    files = [ROOT / "Snakefile", *sorted((ROOT / "workflow/rules").glob("*.smk"))]
    lines = [
        line.strip()
        for path in files
        for line in path.read_text().splitlines()
        if re.match(r"\s*(from|import) symba[. ]", line)
    ]
    assert any("symba.model.report" in line for line in lines)  # the onsuccess headline is among them
    result = _no_torch_after("\n".join(lines))
    assert result.returncode == 0, result.stderr
