"""The engine in its own process: ``python -m symba.physics._engine_worker PARENT_PID MEMORY_MB``.

Started by :mod:`symba.physics.engine` with TMPDIR set to a private folder.
Its stderr (and, through :func:`symba.workers.serve`, its stdout) go to
``worker.log`` there, so nothing it or FORM prints reaches the user; the
caller reads the last line when the worker dies.  It dies with its parent.
"""

from __future__ import annotations

import os
import sys
import tempfile

from symba.physics.engine import answer_request  # loaded already: `-m` imports symba.physics first
from symba.workers import die_with_parent, serve


def main(argv: list[str]) -> int:
    parent, memory_mb = int(argv[0]), int(argv[1])
    log = os.open(os.path.join(tempfile.gettempdir(), "worker.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 2)
    os.close(log)

    die_with_parent()  # a killed caller takes its worker (and FORM) with it
    if os.getppid() != parent:  # the caller died before that was set
        return 1

    def warm_up() -> None:
        # lazy: the heavy imports run under serve's memory limit, with stderr in worker.log
        import symba.physics.builtin  # noqa: F401

    serve(answer_request, memory_mb=memory_mb, warm_up=warm_up)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
