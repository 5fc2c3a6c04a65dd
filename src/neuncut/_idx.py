"""Reader for the IDX format of MNIST-style data sets (MNIST, Fashion-MNIST, EMNIST, ...).

The format: two zero bytes, a type code, the number of dimensions, each dimension as a
big-endian uint32, then the payload in big-endian order. Files may be gzip-compressed.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["load_idx"]

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


def _parse_idx(raw: bytes, where: str) -> np.ndarray:
    """The array held by the (uncompressed) IDX bytes ``raw``; ``where`` names them in errors."""
    if len(raw) < 4 or raw[:2] != b"\0\0":
        raise ValueError(
            f"{where} is not an IDX file: its magic number must start with two zero bytes, "
            f"got {raw[:4]!r}"
        )
    if raw[2] not in _IDX_DTYPES:
        codes = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise ValueError(f"{where} has IDX type code 0x{raw[2]:02X}, expected one of {codes}")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"{where} is truncated: {len(raw)} bytes, less than its {header}-byte header "
            f"({ndim} dimensions)"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4))
    expected = dtype.itemsize * int(np.prod(shape, dtype=object))
    payload = len(raw) - header
    if payload != expected:
        problem = "is truncated" if payload < expected else "has trailing bytes"
        raise ValueError(
            f"{where} {problem}: {payload} payload bytes, expected {expected} for shape "
            f"{shape} of {dtype.newbyteorder('=')}"
        )
    array = np.frombuffer(raw, dtype, expected // dtype.itemsize, offset=header)
    return array.reshape(shape).astype(dtype.newbyteorder("="))  # native order, writable


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an array from an IDX file (the format of MNIST), gzip-compressed or not.

    Parameters
    ----------
    path : str or path-like
        The file. It is decompressed first if it starts with the gzip magic bytes
        (whatever its name; ``.gz`` files normally do).

    Returns
    -------
    numpy.ndarray
        A writable array in native byte order, of the file's shape and type: uint8,
        int8, int16, int32, float32 or float64 (IDX type codes 0x08, 0x09, 0x0B, 0x0C,
        0x0D, 0x0E).

    Raises
    ------
    ValueError
        If the file is not IDX (bad magic number or type code), is truncated or has
        trailing bytes, or is damaged gzip.
    OSError
        If the file cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> header = bytes([0, 0, 0x08, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "a.idx"
    ...     _ = path.write_bytes(header + bytes(range(6)))
    ...     load_idx(path)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    raw = Path(path).read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path} is damaged gzip: {exc}") from exc
    return _parse_idx(raw, str(path))


# -------------------------------------------------------------------- Fashion-MNIST
