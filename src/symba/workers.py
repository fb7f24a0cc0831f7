"""Work that may hang or blow up, run in a separate process that is killed on timeout.

SymPy's C-level loops ignore signals (sympy issue #23713) and MARTY can abort, so the only safe
bound is a process: the caller sends JSON requests, one per line, to a fresh interpreter
(``python -m MODULE``, never a fork of the caller, so a Snakemake ``script:`` without a main guard
is never re-run) and kills it when an answer is late.  The worker side is :func:`serve`.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable

START_TIMEOUT_S = 120.0  # importing SymPy on a loaded cluster node can be slow


class WorkerDied(RuntimeError):
    """The worker did not answer: it timed out (``timed_out``) or crashed."""

    def __init__(self, message: str, timed_out: bool):
        super().__init__(message)
        self.timed_out = timed_out


class LineWorker:
    """A long-lived worker process speaking JSON lines; killed and restarted when a request overruns."""

    def __init__(
        self,
        module: str,
        args: list[str] | None = None,
        env: dict | None = None,
        start_timeout: float = START_TIMEOUT_S,
        stderr_path: str | None = None,
    ):
        self.command = [sys.executable, "-m", module, *(args or [])]
        self.env = dict(os.environ, **(env or {}))
        self.start_timeout = start_timeout
        self.stderr_path = stderr_path  # None: the worker shares the caller's stderr
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None  # of the last worker that ended
        self._buffer = b""

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        stderr = open(self.stderr_path, "ab") if self.stderr_path else None
        try:
            self.proc = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=self.env
            )
        finally:
            if stderr is not None:
                stderr.close()
        self._buffer = b""
        ready = self._read_line(self.start_timeout)
        if ready is None:
            late = self.proc.poll() is None  # still starting, rather than dead
            self.kill()
            if late:
                raise WorkerDied(
                    f"worker {self.command[2]} did not start within {self.start_timeout:g} s", timed_out=True
                )
            raise WorkerDied(f"worker {self.command[2]} died while starting", timed_out=False)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.returncode = self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.proc = None

    def close(self) -> None:
        if self.alive():
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def last_words(self) -> str:
        """The last line the worker wrote to ``stderr_path`` (why it died), or ""."""
        if not self.stderr_path:
            return ""
        try:
            with open(self.stderr_path, errors="replace") as fh:
                fh.seek(max(0, os.path.getsize(self.stderr_path) - 4000))
                lines = [ln.strip() for ln in fh.read().splitlines() if ln.strip()]
        except OSError:
            return ""
        return lines[-1][:300] if lines else ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------ requests
    def _read_line(self, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:  # the worker died (out of memory, abort, ...)
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def request(self, payload, timeout: float):
        """The worker's answer to ``payload``; raises :class:`WorkerDied` (worker killed) if it is late or dies."""
        if not self.alive():
            self.kill()
            self.start()
        try:
            self.proc.stdin.write(json.dumps(payload).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            raise WorkerDied("worker died", timed_out=False) from None
        line = self._read_line(timeout)
        if line is None:
            crashed = self.proc.poll() not in (None, -9)
            self.kill()
            if crashed:
                raise WorkerDied("worker crashed", timed_out=False)
            raise WorkerDied(f"no answer within {timeout:g} s", timed_out=True)
        return json.loads(line)


def die_with_parent() -> None:
    """Get SIGKILL when the parent process dies (Linux; elsewhere a no-op).

    The simplify and engine workers call it first thing, so a SIGKILLed caller does not leave
    them computing at 100% CPU; FORM runs with it (before exec), so a killed worker takes its
    FORM along.  The signal comes when the *thread* that started the process ends: start
    workers from the thread that owns them until they are closed.
    """
    if _PRCTL is not None:
        _PRCTL(1, 9)  # PR_SET_PDEATHSIG, SIGKILL


def _load_prctl():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _load_prctl()


def limit_memory(memory_mb: int) -> None:
    """Cap this process's address space (0 = no cap); allocation past it raises MemoryError."""
    if memory_mb > 0:
        import resource

        limit = memory_mb * 1024 * 1024
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:  # under a tighter cap already (ulimit -v): keep it
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def serve(handle: Callable[[object], object], memory_mb: int = 0, warm_up: Callable[[], None] | None = None) -> None:
    """Worker side: answer each JSON request line on stdin with ``handle(request)`` as one JSON line.

    The protocol gets a private copy of stdout; file descriptor 1 then points at stderr, so a
    library that prints (MARTY's Fortran parts) cannot corrupt the answers.  An exception in
    ``handle`` is answered as ``{"error": "Type: message"}``, never a crash.
    """
    limit_memory(memory_mb)
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if warm_up is not None:
        warm_up()
    channel.write('{"ready": true}\n')
    for line in sys.stdin:
        try:
            answer = handle(json.loads(line))
        except MemoryError:
            answer = {"error": "out of memory"}
        except Exception as exc:  # one bad request is that request's error, not the worker's end
            answer = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        channel.write(json.dumps(answer) + "\n")
