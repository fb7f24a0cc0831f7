"""Worker process of the simplify stage: JSON requests ``{"text": ...}`` on stdin, answers on stdout.

Run as ``python -m symba.simplify.worker METHOD MEMORY_MB [ENGINE]`` (by :class:`symba.workers.LineWorker`);
``"whole": true`` in a request asks for the whole-process form (:mod:`symba.simplify.whole`).
The parent kills it on timeout, which is the only reliable way to stop SymPy.
"""

from __future__ import annotations

import sys

from symba.simplify.simplifier import simplify_text  # loaded already: `-m` imports the package first
from symba.workers import die_with_parent, serve


def main() -> None:
    die_with_parent()  # a SIGKILLed caller must not leave SymPy running (its stdin EOF comes too late)
    method, memory_mb = sys.argv[1], int(sys.argv[2])
    engine = sys.argv[3] if len(sys.argv) > 3 else "flint"

    def handle(request: dict) -> dict:
        return {"text": simplify_text(request["text"], method, engine, bool(request.get("whole")))}

    def warm_up() -> None:
        # SymPy loads lazily (every route but FLINT's factor); the first timed expression should not pay for it.
        simplify_text("(s_12^2 - m_e^2)/(s_12 + m_e)", method, engine)

    serve(handle, memory_mb=memory_mb, warm_up=warm_up)


if __name__ == "__main__":
    main()
