"""Inputs larger than memory: ``.npy`` paths, memory maps and iterators of row chunks.

:meth:`neuncut.NeuNcut.predict` and ``predict_proba`` read such inputs ``chunk_rows`` rows at
a time, so their peak memory does not grow with the number of rows (beyond the output, 8
bytes a row for labels). Chunks are always aligned on multiples of ``chunk_rows`` from the
first row, whatever the chunking of an iterator, so every row goes through exactly the same
floating-point operations as in an in-memory call and gets exactly the same result.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ._files import open_npy

__all__ = ["check_finite_rows", "is_streamed", "iter_row_blocks", "map_row_blocks", "open_rows"]


def is_streamed(X: Any, chunk_rows: int) -> bool:
    """Whether X is read in row blocks: a path, an iterator, a memory map, or an ndarray of
    more than ``chunk_rows`` rows.

    Examples
    --------
    >>> import numpy as np
    >>> is_streamed(np.zeros((10, 2)), 4), is_streamed(np.zeros((3, 2)), 4)
    (True, False)
    >>> is_streamed(iter([np.zeros((3, 2))]), 4), is_streamed([[0.0, 1.0]], 4)
    (True, False)
    """
    if isinstance(X, (str, os.PathLike, Iterator, np.memmap)):
        return True
    return isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[0] > chunk_rows


def open_rows(X: Any) -> np.ndarray | Iterator[Any]:
    """X ready for :func:`iter_row_blocks`: a path becomes a read-only memory map.

    Raises
    ------
    FileNotFoundError, ValueError
        For a missing file, a file that is not ``.npy``, a truncated one, or one that holds
        Python objects (never unpickled).
    """
    if not isinstance(X, (str, os.PathLike)):
        return X
    path = Path(X)
    where = f"X={str(path)!r}"
    if not path.is_file():
        raise FileNotFoundError(f"{where} is not a file; give an array, a .npy path or an"
                                " iterator of row chunks")
    if path.suffix != ".npy":
        raise ValueError(f"{where}: only .npy files can be given by path (np.save writes them)")
    rows = open_npy(path, where)
    if rows.ndim != 2:
        raise ValueError(f"{where} holds an array of shape {rows.shape}; expected 2-D")
    return rows


def iter_row_blocks(rows: Any, chunk_rows: int) -> Iterator[np.ndarray]:
    """Blocks of ``chunk_rows`` consecutive rows (the last may be shorter) of an array or of
    the concatenation of the 2-D chunks an iterable yields.

    Examples
    --------
    >>> import numpy as np
    >>> chunks = (np.full((n, 1), n) for n in (3, 1, 4))
    >>> [b.ravel().tolist() for b in iter_row_blocks(chunks, 5)]
    [[3, 3, 3, 1, 4], [4, 4, 4]]
    """
    if isinstance(rows, np.ndarray):
        for start in range(0, rows.shape[0], chunk_rows):
            yield rows[start : start + chunk_rows]
        return
    yield from _rechunk(rows, chunk_rows)


def _rechunk(chunks: Iterable[Any], chunk_rows: int) -> Iterator[np.ndarray]:
    """Re-cut the 2-D chunks of an iterable into blocks of exactly ``chunk_rows`` rows."""
    pending: list[np.ndarray] = []
    n_pending = 0
    for i, chunk in enumerate(chunks):
        chunk = np.asarray(chunk)
        if chunk.ndim != 2:
            raise ValueError(
                f"X: chunk {i} of the iterator has shape {chunk.shape}; every chunk must be a"
                " 2-D array (rows, n_features)"
            )
        pending.append(chunk)
        n_pending += chunk.shape[0]
        while n_pending >= chunk_rows:
            block = np.concatenate(pending) if len(pending) > 1 else pending[0]
            yield block[:chunk_rows]
            rest = block[chunk_rows:]
            pending, n_pending = ([rest] if rest.shape[0] else []), rest.shape[0]
    if n_pending:
        yield np.concatenate(pending) if len(pending) > 1 else pending[0]


def check_finite_rows(block: np.ndarray, offset: int) -> None:
    """Refuse a numeric block with NaN or inf, naming the first bad row and column of X.

    Examples
    --------
    >>> import numpy as np
    >>> check_finite_rows(np.array([[0.0, np.nan]]), offset=41)
    Traceback (most recent call last):
    ...
    ValueError: X has NaN or inf values, the first at row 42, column 2; remove or impute them
    """
    if not (np.issubdtype(block.dtype, np.floating) or np.iscomplexobj(block)):
        return
    if np.isfinite(block).all():  # the fast path; argwhere only to name the bad entry
        return
    bad = np.argwhere(~np.isfinite(block))
    if bad.size:
        raise ValueError(
            f"X has NaN or inf values, the first at row {offset + bad[0][0] + 1},"
            f" column {bad[0][1] + 1}; remove or impute them"
        )


def map_row_blocks(
    X: Any,
    transform: Callable[[np.ndarray], np.ndarray],
    width: tuple[int, ...],
    dtype: type,
    *,
    chunk_rows: int,
    progress: bool = False,
) -> np.ndarray:
    """``transform`` of every block of ``chunk_rows`` rows of X, concatenated.

    X is anything :func:`open_rows` takes. Every block is checked for NaN and inf first
    (:func:`check_finite_rows`, naming the row of X); the output of an array input is
    preallocated, so memory is the output plus one block. ``progress`` shows a tqdm bar.

    Examples
    --------
    >>> import numpy as np
    >>> chunks = iter([np.ones((3, 2)), np.ones((2, 2))])
    >>> map_row_blocks(chunks, lambda b: b.sum(axis=1), (), np.float64, chunk_rows=4)
    array([2., 2., 2., 2., 2.])
    """
    rows = open_rows(X)
    n = rows.shape[0] if isinstance(rows, np.ndarray) else None
    out = np.empty((n, *width), dtype=dtype) if n is not None else None
    parts, offset = [], 0
    with tqdm(total=n, unit="rows", desc="predict", disable=not progress, leave=False) as bar:
        for block in iter_row_blocks(rows, chunk_rows):
            check_finite_rows(block, offset)
            result = transform(block)
            if out is not None:
                out[offset : offset + block.shape[0]] = result
            else:
                parts.append(result)
            offset += block.shape[0]
            bar.update(block.shape[0])
    if offset == 0:
        raise ValueError("X has no rows: the iterator yielded no data")
    return out if out is not None else np.concatenate(parts)
