"""Private temporary folders named after the process that owns them.

A process killed outright (SIGKILL, SIGTERM) runs no cleanup, so its folder
stays; the next one to make a folder of the same kind removes every such folder
of this user whose owner is gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile


def make_owned_dir(prefix: str) -> str:
    """A new folder ``<tmp>/<prefix><pid>-XXXX``, after removing the stale ones of that prefix."""
    remove_stale_dirs(prefix)
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_dirs(prefix: str, root: str | None = None) -> list[str]:
    """Remove this user's ``<prefix><pid>-*`` folders whose process ``pid`` no longer runs."""
    root = root or tempfile.gettempdir()
    removed: list[str] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        pid_text = entry.name[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
        except OSError:
            continue
        if _pid_alive(int(pid_text)):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed
