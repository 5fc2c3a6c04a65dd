"""Tests of neuncut._io: exact round trips and refusal of damaged, foreign or hostile files."""

from __future__ import annotations

import json
import os
import pickle
import shlex

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

import neuncut._io as nio
from neuncut._io import FORMAT_VERSION, load_tensors, save_tensors
from neuncut._version import __version__
from neuncut.exceptions import ModelFileError


def _tensors() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    w = torch.randn(4, 3, generator=g, requires_grad=True)
    return {
        "w": w,
        "w_t": w.detach().t(),  # not contiguous
        "b64": torch.randn(5, generator=g, dtype=torch.float64),
        "idx": torch.arange(-3, 4, dtype=torch.int64),
        "mask": torch.tensor([True, False, True]),
        "half": torch.tensor([1.5, -2.25], dtype=torch.float16),
        "bf16": torch.tensor([3.0, 0.125], dtype=torch.bfloat16),
        "scalar": torch.tensor(7.0),
        "empty": torch.zeros(0, 2),
    }


HEADER = {
    "n_clusters": 3,
    "sigma": 0.1 + 0.2,
    "dims": [784, 512, 10],
    "name": "é∑",
    "nested": {"ok": True, "none": None},
}


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model.safetensors"
    save_tensors(path, _tensors(), HEADER)
    return path


def test_round_trip_is_exact(model_file):
    tensors, header = load_tensors(model_file)
    expected = _tensors()
    assert list(sorted(tensors)) == sorted(expected)
    for name, t in expected.items():
        assert tensors[name].dtype == t.dtype and tensors[name].shape == t.shape
        assert torch.equal(tensors[name], t.detach()), name
        assert tensors[name].device.type == "cpu" and not tensors[name].requires_grad
    assert header == {**HEADER, "format_version": FORMAT_VERSION, "library_version": __version__}
    assert header["sigma"] == 0.1 + 0.2  # floats survive exactly


def test_round_trip_accepts_str_path_and_shared_tensors(tmp_path):
    x = torch.arange(6.0).reshape(2, 3)
    save_tensors(str(tmp_path / "m"), {"a": x, "b": x, "row": x[1]}, {})
    tensors, _ = load_tensors(str(tmp_path / "m"))
    assert torch.equal(tensors["a"], x) and torch.equal(tensors["b"], x)
    assert torch.equal(tensors["row"], x[1])


def test_reserved_header_keys_are_set_by_the_writer(tmp_path):
    save_tensors(tmp_path / "m", {}, {"format_version": 99, "checksum": "x", "k": 1})
    _, header = load_tensors(tmp_path / "m")
    assert header == {"k": 1, "format_version": FORMAT_VERSION, "library_version": __version__}


def test_metadata_layout(model_file):
    from safetensors import safe_open

    with safe_open(model_file, "pt") as f:
        meta = f.metadata()
    assert set(meta) == {"neuncut", "format_version", "library_version", "checksum"}
    assert json.loads(meta["neuncut"]) == HEADER
    assert meta["format_version"] == str(FORMAT_VERSION) and meta["library_version"] == __version__
    assert meta["checksum"] == nio._checksum(_tensors())


def test_checksum_invariants():
    a, b = torch.arange(6, dtype=torch.int32), torch.ones(2)
    assert nio._checksum({"a": a, "b": b}) == nio._checksum({"b": b, "a": a})  # order-free
    base = nio._checksum({"a": a})
    assert nio._checksum({"a": a.reshape(2, 3)}) != base  # same bytes, other shape
    assert nio._checksum({"a": a.view(torch.float32)}) != base  # same bytes, other dtype
    assert nio._checksum({"c": a}) != base  # other name
    assert nio._checksum({"a": a.reshape(3, 2).t()}) == nio._checksum(
        {"a": a.reshape(3, 2).t().contiguous()}
    )  # logical content, not memory layout


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="model file .*nope.safetensors.* does not exist"):
        load_tensors(tmp_path / "nope.safetensors")


@pytest.mark.parametrize(
    ("where", "match"),
    [
        ("length", r"not a neuncut model file \(not a safetensors file\)"),
        ("header", r"truncated or corrupted \(header of \d+ bytes, file of 20 bytes\)"),
        ("data", r"truncated or corrupted \(.*incomplete metadata"),
    ],
)
def test_truncated_file(model_file, where, match):
    data = model_file.read_bytes()
    cut = {"length": 4, "header": 20, "data": len(data) - 1}[where]
    assert int.from_bytes(data[:8], "little") + 8 > 20  # 20 bytes end inside the header
    model_file.write_bytes(data[:cut])
    with pytest.raises(ModelFileError, match=match):
        load_tensors(model_file)


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.safetensors"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ModelFileError, match=r"is not a neuncut model file \(not a safetensors"):
        load_tensors(path)


class _Payload:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_pickle_file_is_refused_and_not_executed(tmp_path, protocol):
    sentinel = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(_Payload(f"touch {shlex.quote(str(sentinel))}"), protocol))
    with pytest.raises(ModelFileError, match=r"not a safetensors file"):
        load_tensors(path)
    assert not sentinel.exists()


def test_torch_save_file_is_refused(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "model.pt")
    with pytest.raises(ModelFileError, match="not a safetensors file"):
        load_tensors(tmp_path / "model.pt")


def test_plain_safetensors_file_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    path.write_bytes(st_save({"w": torch.ones(2)}, metadata={"format": "pt"}))
    with pytest.raises(ModelFileError, match="without 'neuncut' metadata"):
        load_tensors(path)


@pytest.mark.parametrize("position", [0, -1])
def test_tampered_tensor_bytes(model_file, position):
    data = bytearray(model_file.read_bytes())
    start = 8 + int.from_bytes(data[:8], "little")
    i = start if position == 0 else len(data) - 1
    data[i] ^= 0x01
    model_file.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="failed its checksum"):
        load_tensors(model_file)


def test_future_format_version(tmp_path, monkeypatch):
    path = tmp_path / "future.safetensors"
    with monkeypatch.context() as m:
        m.setattr(nio, "FORMAT_VERSION", FORMAT_VERSION + 1)
        save_tensors(path, {"w": torch.ones(1)}, {})
    with pytest.raises(
        ModelFileError,
        match=rf"written by a newer neuncut \(format {FORMAT_VERSION + 1};.*"
        r"upgrade neuncut$",
    ):
        load_tensors(path)


@pytest.mark.parametrize("failing", ["replace", "fsync", "serializer"])
def test_atomic_write_keeps_the_old_file(model_file, monkeypatch, failing):
    before = model_file.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk on fire")

    if failing == "serializer":
        monkeypatch.setattr(nio, "_st_save", boom)
    else:
        monkeypatch.setattr(nio.os, failing, boom)
    with pytest.raises(OSError, match="disk on fire"):
        save_tensors(model_file, {"w": torch.zeros(3)}, {"new": True})
    monkeypatch.undo()
    assert model_file.read_bytes() == before
    assert os.listdir(model_file.parent) == [model_file.name]  # no temporary file left
    tensors, header = load_tensors(model_file)
    assert header["n_clusters"] == 3


def test_overwrite_replaces_content(model_file):
    save_tensors(model_file, {"w": torch.zeros(3)}, {"new": True})
    tensors, header = load_tensors(model_file)
    assert list(tensors) == ["w"] and header["new"] is True
    assert os.listdir(model_file.parent) == [model_file.name]


@pytest.mark.parametrize(
    ("tensors", "header", "exc", "match"),
    [
        ([torch.ones(1)], {}, TypeError, "tensors must be a dict"),
        ({"w": np.ones(1)}, {}, TypeError, "tensors must map str to torch.Tensor, got 'w'"),
        ({1: torch.ones(1)}, {}, TypeError, "tensors must map str to torch.Tensor, got 1"),
        ({}, [("k", 1)], TypeError, "header must be a JSON-serialisable dict, got <class 'list'>"),
        ({}, {"k": {1, 2}}, ValueError, "header must be JSON-serialisable: .*set"),
    ],
)
def test_bad_arguments(tmp_path, tensors, header, exc, match):
    with pytest.raises(exc, match=match):
        save_tensors(tmp_path / "m", tensors, header)
    assert os.listdir(tmp_path) == []
