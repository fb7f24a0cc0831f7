"""The shared plumbing: atomic writes and killable workers."""

import os
import stat

import pytest

from symba.files import atomic_write, write_text_if_changed
from symba.workers import LineWorker, WorkerDied

WORKER = """
import time
from symba.workers import serve

def handle(request):
    if "sleep" in request:
        time.sleep(request["sleep"])
    if request.get("print"):
        print("noise that must not reach the protocol")
    if request.get("fail"):
        raise ValueError("bad request")
    return {"echo": request.get("echo")}

serve(handle)
"""


def test_atomic_write_text_bytes_and_writer(tmp_path):
    atomic_write(tmp_path / "a" / "t.txt", "text")
    atomic_write(tmp_path / "b.bin", b"\x00\x01")
    atomic_write(tmp_path / "c.txt", lambda p: open(p, "w").write("via path"))
    assert (tmp_path / "a" / "t.txt").read_text() == "text"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "c.txt").read_text() == "via path"


def test_atomic_write_respects_umask_and_leaves_nothing_on_failure(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "x.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644

    def broken(p):
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(tmp_path / "y.txt", broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.txt"]


def test_write_text_if_changed(tmp_path):
    path = tmp_path / "s.json"
    assert write_text_if_changed(path, "1")
    assert not write_text_if_changed(path, "1")
    assert write_text_if_changed(path, "2")


def test_line_worker_answers_times_out_restarts_and_survives_errors(tmp_path):
    (tmp_path / "echo_worker.py").write_text(WORKER)
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    with LineWorker("echo_worker", env=env) as worker:
        assert worker.request({"echo": 1, "print": True}, timeout=30) == {"echo": 1}
        with pytest.raises(WorkerDied) as died:
            worker.request({"sleep": 30}, timeout=0.5)
        assert died.value.timed_out and not worker.alive()
        assert worker.request({"echo": 2}, timeout=30) == {"echo": 2}  # a fresh worker
        assert worker.request({"fail": True}, timeout=30) == {"error": "ValueError: bad request"}
        assert worker.request({"echo": 3}, timeout=30) == {"echo": 3}
