"""The checkpoint format's pieces: provenance and the refusal of unsafe loading."""

import pytest
import torch

from symba.model import checkpoint
from symba.model.errors import ModelFileError


def test_data_fingerprint_follows_content_and_order_not_names(tmp_path):
    (tmp_path / "a.parquet").write_bytes(b"rows of shard a")
    (tmp_path / "b.parquet").write_bytes(b"rows of shard b")
    (tmp_path / "copy.parquet").write_bytes(b"rows of shard a")
    a, b, copy = (str(tmp_path / n) for n in ("a.parquet", "b.parquet", "copy.parquet"))
    assert checkpoint.data_fingerprint([a, b]) == checkpoint.data_fingerprint([copy, b])
    assert checkpoint.data_fingerprint([a, b]) != checkpoint.data_fingerprint([b, a])  # order shapes batches
    before = checkpoint.data_fingerprint([a, b])
    (tmp_path / "b.parquet").write_bytes(b"rows of shard B")  # same name and size, other content
    assert checkpoint.data_fingerprint([a, b]) != before


def test_provenance_mismatch_names_each_difference():
    now = {"data": "d1", "vocab": "v1", "train_config": {"lr": 0.1, "seed": 1}}
    assert checkpoint.provenance_mismatch(dict(now), now) == []
    then = {"data": "d0", "vocab": "v1", "train_config": {"lr": 0.2, "seed": 1, "old_key": 3}}
    assert checkpoint.provenance_mismatch(then, now) == [
        "was made with other training data",
        "was made with another train config (lr, old_key)",
    ]
    assert checkpoint.provenance_mismatch(None, now) == ["records no provenance"]


def test_old_torch_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    torch.save({"x": torch.zeros(1)}, path)
    monkeypatch.setattr(torch, "__version__", "2.5.1+cpu")
    with pytest.raises(ModelFileError, match="install torch >= 2.6"):
        checkpoint.load_plain(path, "model file")
