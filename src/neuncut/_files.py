"""The one home of neuncut's file helpers: .npy opening, sha256, atomic writes, safetensors.

Model files (:mod:`neuncut._io`), feature caches (:mod:`neuncut.features`), the command line's
inputs (``neuncut._cli_files``), inputs larger than memory (:mod:`neuncut._streaming`), the
MNIST check (:mod:`neuncut.datasets`) and checkpoint fingerprints (:mod:`neuncut._checkpoint`)
all go through these functions, so that each file concept is written once: ``.npy`` files are
memory-mapped and never unpickled, digests are sha256 hex strings, writes are atomic and
durable, and a safetensors header is parsed in one place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

__all__ = [
    "NPY_MAGIC",
    "array_file_error",
    "atomic_write",
    "open_npy",
    "read_safetensors_header",
    "safetensors_header_length",
    "sha256_hex",
]

NPY_MAGIC = b"\x93NUMPY"
"""The first bytes of every ``.npy`` file."""

_NOT_SAFETENSORS = "is not a neuncut model file (not a safetensors file)"


# ----------------------------------------------------------------------------- .npy


def array_file_error(where: str, exc: BaseException) -> ValueError:
    """The one-line ValueError for an array file that numpy could not read.

    Parameters
    ----------
    where : str
        The file as the message names it, e.g. ``"data file 'X.npy'"``.
    exc : BaseException
        numpy's error.

    Returns
    -------
    ValueError
        "holds Python objects" for an object array (never unpickled), else "is truncated or
        corrupted".

    Examples
    --------
    >>> array_file_error("data file 'X.npy'", EOFError("EOF"))
    ValueError("data file 'X.npy' is truncated or corrupted (EOF); write it again")
    """
    if "allow_pickle" in str(exc) or "Python objects" in str(exc):
        return ValueError(f"{where} holds Python objects, which neuncut never unpickles; "
                          "save a numeric array")
    return ValueError(f"{where} is truncated or corrupted ({exc}); write it again")


def open_npy(path: str | os.PathLike[str], where: str) -> np.ndarray:
    """A ``.npy`` file as a read-only memory map; a file larger than RAM is read in blocks.

    Nothing is unpickled. A missing or unreadable file raises what ``open`` raises; any
    other problem is a ``ValueError`` naming ``where``.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npy`` file.
    where : str
        The file as error messages name it, e.g. ``"X='big.npy'"``.

    Returns
    -------
    numpy.memmap
        The array, opened with ``mmap_mode="r"``.

    Raises
    ------
    ValueError
        If the file is not a ``.npy`` file, is truncated or corrupted, or holds Python
        objects.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     np.save(f"{d}/x.npy", np.eye(2))
    ...     X = open_npy(f"{d}/x.npy", "X")
    ...     print(type(X).__name__, X.shape, X.flags.writeable)
    ...     del X
    memmap (2, 2) False
    """
    with open(path, "rb") as f:
        magic = f.read(len(NPY_MAGIC))
    if magic != NPY_MAGIC:
        raise ValueError(f"{where} is not a .npy file (np.save writes them)")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise array_file_error(where, exc) from None


# --------------------------------------------------------------------------- sha256


def sha256_hex(*parts: Any) -> str:
    """sha256 hex digest of ``parts``, hashed one after the other.

    A ``bytes``-like part is hashed as it is; a numpy array as its bytes in C order (its
    shape and dtype are not included: pass them as a part of their own); any other value
    as its JSON (sorted keys, ``repr`` of what JSON cannot encode), UTF-8.

    Parameters
    ----------
    *parts : bytes, bytearray, memoryview, numpy.ndarray or JSON-able value

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> sha256_hex(b"")
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    >>> sha256_hex({"b": 1, "a": 2}) == sha256_hex(b'{"a": 2, "b": 1}')
    True
    >>> X = np.arange(4.0).reshape(2, 2)
    >>> sha256_hex(X.T) == sha256_hex(X.T.copy()) == sha256_hex(np.array([0.0, 2.0, 1.0, 3.0]))
    True
    """
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            part = np.ascontiguousarray(part)
        elif not isinstance(part, (bytes, bytearray, memoryview)):
            part = json.dumps(part, sort_keys=True, default=repr).encode()
        digest.update(part)
    return digest.hexdigest()


# -------------------------------------------------------------------- atomic writes


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file whose content replaces ``path`` atomically and durably on success.

    The caller writes to a fresh temporary file in the same directory (opened exclusively,
    so that it gets the umask's permissions); on leaving the ``with`` block it is flushed,
    synced to disk and renamed over ``path``, and the directory is synced. An error (in the
    block or in these steps) removes the temporary file and leaves the old ``path``, if
    any, as it was: a reader sees either the old file or the new one, never a partial one.

    Parameters
    ----------
    path : str or os.PathLike
        The destination; its directory must exist.

    Yields
    ------
    BinaryIO
        The temporary file, open for writing.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with atomic_write(f"{d}/x.npy") as f:
    ...         np.save(f, np.arange(3))
    ...     print(os.listdir(d), np.load(f"{d}/x.npy"))
    ['x.npy'] [0 1 2]
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    try:
        with open(tmp, "xb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable where the platform allows it (best effort)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---------------------------------------------------------------------- safetensors


def safetensors_header_length(head: bytes) -> int | None:
    """Length of the JSON header that the first bytes of a safetensors file announce.

    A safetensors file starts with the header's length (8 bytes, little-endian), then the
    header, a JSON object.

    Parameters
    ----------
    head : bytes
        The first bytes of a file (at least 9 for a safetensors file).

    Returns
    -------
    int or None
        The announced length, or None if ``head`` does not start like a safetensors file.

    Examples
    --------
    >>> safetensors_header_length((2).to_bytes(8, "little") + b"{}")
    2
    >>> safetensors_header_length(b"\\x93NUMPY\\x01\\x00v\\x00{'descr'") is None
    True
    """
    if head[8:9] != b"{":
        return None
    return int.from_bytes(head[:8], "little")


def read_safetensors_header(data: bytes, where: str) -> dict[str, Any]:
    """The JSON header of the safetensors file whose bytes are ``data``.

    Parameters
    ----------
    data : bytes
        The file's bytes (at least its first 8 bytes and its whole header).
    where : str
        The file as error messages name it, e.g. ``"model file 'm.safetensors'"``.

    Returns
    -------
    dict
        The header: tensor names to their dtype, shape and offsets, and ``"__metadata__"``.

    Raises
    ------
    ValueError
        If ``data`` is not a safetensors file or its header is truncated or not JSON.

    Examples
    --------
    >>> read_safetensors_header((15).to_bytes(8, "little") + b'{"__metadata__":{}}', "m")
    Traceback (most recent call last):
    ...
    ValueError: m is corrupted (its header is not valid JSON)
    >>> read_safetensors_header((19).to_bytes(8, "little") + b'{"__metadata__":{}}', "m")
    {'__metadata__': {}}
    """
    n = safetensors_header_length(data)
    if n is None:
        raise ValueError(f"{where} {_NOT_SAFETENSORS}")
    if n > len(data) - 8:
        raise ValueError(
            f"{where} is truncated or corrupted (header of {n} bytes, file of {len(data)} bytes)"
        )
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"{where} is corrupted (its header is not valid JSON)") from None
    if not isinstance(header, dict):
        raise ValueError(f"{where} {_NOT_SAFETENSORS}")
    return header
