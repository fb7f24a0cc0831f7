"""Writing output files safely: whole or not at all, readable like any other output."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, content: str | bytes | Callable[[str], None]) -> Path:
    """Write ``content`` to a temporary file beside ``path``, then rename it into place.

    ``content`` is text, bytes, or a function that writes the file at the path it is given
    (for Parquet, torch and other writers that want a path).  Readers never see a partial
    file, and a failure leaves no temporary behind.  The file gets the mode an ordinary
    ``open`` would give (0666 less the umask), not ``mkstemp``'s private 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if callable(content):
            os.close(fd)
            content(tmp)
        else:
            with os.fdopen(fd, "wb" if isinstance(content, bytes) else "w") as handle:
                handle.write(content)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_text_if_changed(path: str | os.PathLike, text: str) -> bool:
    """Atomically write ``text`` unless the file already holds it, so mtimes move only on real change."""
    try:
        if Path(path).read_text() == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    atomic_write(path, text)
    return True


class UndecodableLine(ValueError):
    """A stdin line that is not valid UTF-8, or longer than the per-line bound."""


def stdin_lines(max_line_bytes: int = 10_000_000, stream=None):
    """(line number, text or UndecodableLine) of each line of stdin, read as bytes.

    Each line is decoded on its own, so one line of invalid UTF-8 (or one over
    ``max_line_bytes``) spoils only that line: the caller answers it with an error and
    goes on.  A line's trailing newline (and ``\\r``) is removed.  Memory is bounded by
    ``max_line_bytes``: the rest of an over-long line is read and dropped in chunks.
    """
    source = stream if stream is not None else sys.stdin.buffer
    k = 0
    while True:
        raw = source.readline(max_line_bytes + 1)
        if not raw:
            return
        k += 1
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            while True:  # drop the rest of the over-long line
                rest = source.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield k, UndecodableLine(f"line {k} is longer than {max_line_bytes} bytes")
            continue
        try:
            yield k, raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            yield k, UndecodableLine(f"line {k} is not valid UTF-8 (byte {exc.start + 1}: {raw[exc.start]:#04x})")
