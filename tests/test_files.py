"""Tests of neuncut._files: .npy opening, sha256, atomic writes and safetensors headers."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

from neuncut import _files
from neuncut._files import (
    array_file_error,
    atomic_write,
    open_npy,
    read_safetensors_header,
    safetensors_header_length,
    sha256_hex,
)

# ----------------------------------------------------------------------------- sha256


@pytest.mark.parametrize(
    "parts",
    [(b"",), (b"ab", b"c"), (bytearray(b"xyz"),), (memoryview(b"mv"), b"!")],
)
def test_sha256_of_bytes_is_hashlib_of_their_concatenation(parts) -> None:
    assert sha256_hex(*parts) == hashlib.sha256(b"".join(bytes(p) for p in parts)).hexdigest()


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int8, np.bool_, np.complex64])
def test_sha256_of_an_array_is_its_c_order_bytes(dtype) -> None:
    X = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    expected = hashlib.sha256(X.tobytes(order="C")).hexdigest()
    assert sha256_hex(X) == sha256_hex(X.copy(order="F")) == expected
    assert sha256_hex(X.T) == hashlib.sha256(X.T.tobytes(order="C")).hexdigest() != expected


def test_sha256_of_other_values_is_their_sorted_json() -> None:
    assert sha256_hex({"b": [1, 2], "a": None}) == sha256_hex(b'{"a": null, "b": [1, 2]}')
    assert sha256_hex({"f": len}) == sha256_hex(b'{"f": "<built-in function len>"}')  # repr
    assert sha256_hex((3, 2)) == sha256_hex([3, 2]) == sha256_hex(b"[3, 2]")


def test_sha256_of_an_empty_array() -> None:
    assert sha256_hex(np.zeros((0, 4))) == sha256_hex(b"")


# Digests written into files and cache names by earlier neuncut versions: they must not change,
# or existing model files fail their checksum and existing caches are recomputed.
def test_digests_of_the_callers_are_unchanged() -> None:
    from neuncut import _io as nio
    from neuncut import features
    from neuncut._checkpoint import fingerprint

    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 3))
    images = rng.random((3, 5, 5)).astype(np.float32)
    tensors = {
        "w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(3, dtype=torch.bfloat16),
        "z": torch.zeros(0), "m": torch.tensor([True, False]),
        "t": torch.arange(6).reshape(3, 2).t(), "h": torch.ones(2, dtype=torch.float16),
    }
    params = {"k": 2, "b": [1, 2], "f": len, "n": None}
    assert fingerprint(X, params) == (
        "8f606128b1a650bd5f966368c46d744175ae68f17b06b8da45f543c6fb8aaf89")
    assert fingerprint(X.T, params) == (
        "c3aad92ac967e8ecd3aa496ce97b40c680df6d020fa070308e9552645b11e77d")
    assert features._cache_key(images, {"J": 3, "a": "x", "n_components": None}) == (
        "f4207c820eda1b5928f661b119f8ccf352b9334b76c3310e2206314173a2f1a1")
    assert nio._checksum(tensors) == (
        "24fb520f0d5d384b894cc79b742b2cb37d25002b49819ea76e3013236005bb27")


# ---------------------------------------------------------------------- atomic writes


def test_atomic_write_creates_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    for content in (b"old", b"new content"):
        with atomic_write(path) as f:
            f.write(content)
        assert path.read_bytes() == content
    assert os.listdir(tmp_path) == ["f.bin"]


def test_atomic_write_gives_the_umasks_permissions(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "f.bin") as f:
        f.write(b"x")
    (tmp_path / "reference").write_bytes(b"")
    assert (tmp_path / "f.bin").stat().st_mode == (tmp_path / "reference").stat().st_mode


@pytest.mark.parametrize("failing", ["block", "fsync", "replace"])
def test_failed_atomic_write_keeps_the_old_file(tmp_path: Path, monkeypatch, failing) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def boom(*args, **kwargs):
        raise OSError("disk on fire")

    if failing != "block":
        monkeypatch.setattr(_files.os, failing, boom)
    with pytest.raises(OSError, match="disk on fire"), atomic_write(path) as f:
        f.write(b"partial")
        if failing == "block":
            boom()
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]  # no temporary file left


def test_atomic_write_needs_the_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), atomic_write(tmp_path / "no" / "f.bin") as f:
        f.write(b"x")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- .npy


def test_open_npy_memory_maps_read_only(tmp_path: Path) -> None:
    X = np.arange(12.0).reshape(4, 3)
    np.save(tmp_path / "x.npy", X)
    rows = open_npy(tmp_path / "x.npy", "X")
    assert isinstance(rows, np.memmap) and not rows.flags.writeable
    np.testing.assert_array_equal(rows, X)


def _bad_npy(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.npy"
    np.save(tmp_path / "good.npy", np.ones((4, 3)))
    raw = (tmp_path / "good.npy").read_bytes()
    if kind == "data-cut":
        path.write_bytes(raw[:-40])
    elif kind == "header-cut":
        path.write_bytes(raw[:20])
    elif kind == "objects":
        np.save(path, np.array([[1, "a"]], dtype=object), allow_pickle=True)
    elif kind == "text":
        path.write_text("1,2\n3,4\n")
    elif kind == "npz":
        np.savez(tmp_path / "a.npz", X=np.ones(2))
        path.write_bytes((tmp_path / "a.npz").read_bytes())
    else:
        path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("data-cut", r"^X is truncated or corrupted \(mmap length .*\); write it again$"),
        ("header-cut", r"^X is truncated or corrupted \(EOF: reading array header"),
        ("objects", r"^X holds Python objects, which neuncut never unpickles; save a numeric"),
        ("text", r"^X is not a \.npy file \(np\.save writes them\)$"),
        ("npz", r"^X is not a \.npy file"),
        ("empty", r"^X is not a \.npy file"),
    ],
)
def test_open_npy_errors_are_one_line_value_errors(tmp_path: Path, kind, message) -> None:
    with pytest.raises(ValueError, match=message):
        open_npy(_bad_npy(tmp_path, kind), "X")


def test_open_npy_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_npy(tmp_path / "nope.npy", "X")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (ValueError("Object arrays cannot be loaded when allow_pickle=False"),
         "data file 'a' holds Python objects, which neuncut never unpickles; save a numeric array"),
        (EOFError("No data left"), "data file 'a' is truncated or corrupted (No data left); "
                                   "write it again"),
    ],
)
def test_array_file_error(error, message) -> None:
    assert str(array_file_error("data file 'a'", error)) == message


# ---------------------------------------------------------------------- safetensors


def _safetensors() -> bytes:
    return st_save({"w": torch.eye(2)}, metadata={"neuncut": "{}"})


def test_safetensors_header_of_a_real_file() -> None:
    data = _safetensors()
    n = safetensors_header_length(data)
    assert n == int.from_bytes(data[:8], "little") and 8 + n < len(data)  # then the tensor
    header = read_safetensors_header(data, "m")
    assert header["__metadata__"] == {"neuncut": "{}"}
    assert header["w"]["shape"] == [2, 2] and header["w"]["dtype"] == "F32"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"", None),
        ((2).to_bytes(8, "little"), None),  # no header after the length
        (b"\x93NUMPY\x01\x00v\x00{'descr'", None),  # a .npy file
        ((258).to_bytes(8, "little") + b'{"a', 258),  # only the start of the header is needed
    ],
)
def test_safetensors_header_length(head: bytes, expected: int | None) -> None:
    assert safetensors_header_length(head) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"^m is not a neuncut model file \(not a safetensors file\)$"),
        (b"PK\x03\x04" + b"\x00" * 20, r"not a safetensors file"),
        ((100).to_bytes(8, "little") + b"{}", r"^m is truncated or corrupted \(header of 100 "
                                               r"bytes, file of 10 bytes\)$"),
        ((3).to_bytes(8, "little") + b"{x}", r"^m is corrupted \(its header is not valid JSON\)$"),
        ((2).to_bytes(8, "little") + b"{\xff", r"not valid JSON"),
    ],
)
def test_read_safetensors_header_errors(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_safetensors_header(data, "m")
