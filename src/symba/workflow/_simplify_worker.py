"""Worker process for simplify.py: reads JSON requests on stdin, answers on stdout.

Run as ``python -m symba.workflow._simplify_worker METHOD MEMORY_MB``.  The
parent kills it on timeout, which is the only reliable way to stop SymPy.
"""

from __future__ import annotations

import json
import sys


def _limit_memory(memory_mb: int) -> None:
    if memory_mb > 0:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> None:
    method, memory_mb = sys.argv[1], int(sys.argv[2])
    _limit_memory(memory_mb)
    from symba.workflow.simplify import simplify_text

    # Warm up SymPy's lazily built tables so the first timed expression is not charged for them.
    simplify_text("(s_12^2 - m_e^2)/(s_12 + m_e)", method)
    out = sys.stdout
    out.write('{"ready": true}\n')
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"status": "ok", "text": simplify_text(request["text"], method)}
        except MemoryError:
            answer = {"status": "error", "message": "out of memory"}
        except Exception as exc:  # any SymPy failure is a per-expression "error", not a crash
            answer = {"status": "error", "message": f"{type(exc).__name__}: {exc}"[:500]}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
