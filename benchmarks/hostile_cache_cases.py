"""Issue 23 items 1-2, before and after: damaged simplify cache entries, cached failures, code changes.

Run by hand, once per checkout to compare (the simplifier runs in subprocesses of that checkout):
    python benchmarks/hostile_cache_cases.py --src src            # this checkout
    python benchmarks/hostile_cache_cases.py --src /path/to/old/src

Each case fills a fresh cache with the docs/physics.md e- e+ -> mu- mu+ square, damages the one
entry, and simplifies again: ``used`` (the damaged entry answered), ``recomputed`` or the exception.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

RAW = (
    "(1/4)*e^4*(64*m_e^2*m_mu^2+32*s_34*m_e^2+32*s_14*s_23+32*s_13*s_24+32*s_12*m_mu^2)"
    "/((2*m_e^2 + 2*s_12)*(2*m_e^2 + 2*s_12))"
)
# Expanding (sum of 15 invariants)^7 exceeds a 400 MB address space in FLINT; unlimited it takes seconds.
BIG = "(" + "+".join(f"s_{i}{j}" for i in range(1, 6) for j in range(i + 1, 7)) + ")^7"
PROGRAM = """
import json, sys
from symba.simplify import SimplifyOptions, simplify_expressions
text, cache, memory_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    (o,), s = simplify_expressions([text], SimplifyOptions(cache_dir=cache, retries=0, memory_mb=memory_mb))
    print(json.dumps([o.status, o.text, s.computed, s.cached]))
except Exception as exc:
    print(json.dumps(["raised " + type(exc).__name__, "", 0, 0]))
"""


def run(src: Path, cache: Path, text: str = RAW, memory_mb: int = 0) -> list:
    env = dict(os.environ, PYTHONPATH=str(src))
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, text, str(cache), str(memory_mb)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def edit(field, value):
    def damage(path: Path):
        entry = json.loads(path.read_text())
        if field == "timeout" and "limits" in entry:
            entry["limits"]["timeout"] = value
        elif value is None:
            del entry[field]
        else:
            entry[field] = value
        path.write_text(json.dumps(entry))

    return damage


CASES = {
    "edited text (valid JSON)": edit("text", "1*(stale)"),
    "entry [1,2]": lambda path: path.write_text("[1,2]"),
    "no status": edit("status", None),
    'timeout "30"': edit("timeout", "30"),
    'status "banana"': edit("status", "banana"),
}


def verdict(clean: list, again: list) -> str:
    if again[0].startswith("raised"):
        return again[0]
    if again[2] == 1:
        return "recomputed" + ("" if again[:2] == clean[:2] else f" (differs: {again[:2]})")
    return f"used: status {again[0]!r}" + (", text stale" if again[1] != clean[1] else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, required=True, help="the src/ folder of the checkout to try")
    args = parser.parse_args()
    src = args.src.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for k, (name, damage) in enumerate(CASES.items()):
            cache = tmp / f"cache{k}"
            clean = run(src, cache)
            (entry,) = cache.rglob("*.json")
            damage(entry)
            print(f"{name:28s} {verdict(clean, run(src, cache))}")
        cache = tmp / "oom"
        first = run(src, cache, BIG, memory_mb=400)
        second = run(src, cache, BIG, memory_mb=0)
        print(f"{'failure at 400 MB, then 0':28s} first {first[0]}, then {second[0]} (computed {second[2]})")
        patched = tmp / "patched"
        shutil.copytree(src, patched, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        flint = patched / "symba" / "simplify" / "flint.py"
        old = "        return flint_factor_text(text)\n"
        flint.write_text(flint.read_text().replace(old, '        return "1*(" + flint_factor_text(text) + ")"\n'))
        cache = tmp / "code"
        before, after = run(src, cache), run(patched, cache)
        changed = "new text" if after[1] == f"1*({before[1]})" else "old text"
        print(f"{'factor_text changed':28s} computed {after[2]}, {changed}")


if __name__ == "__main__":
    main()
