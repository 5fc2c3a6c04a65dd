"""Reading and writing the command line's files: data, labels and models.

Data are ``.npy``, ``.npz`` or numeric CSV (with or without a header row); labels are ``.npy``
or one per line in ``.csv``/``.txt``. The kind of a file is sniffed from its first bytes, so a
model given where data is expected (or the reverse) gets a message that says so. Every problem
is a ``ValueError`` or ``OSError`` with a one-line message; nothing is unpickled.
"""

from __future__ import annotations

import csv
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ._estimator import NeuNcut
from ._files import NPY_MAGIC, array_file_error, open_npy, safetensors_header_length
from .exceptions import ModelFileError

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_BROKEN = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)

def _sniff(path: Path, what: str) -> str:
    """Kind of an existing non-empty file from its first bytes: npy, npz, model, text, binary."""
    if not path.exists():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist; check the path")
    if path.is_dir():
        raise IsADirectoryError(f"{what} {str(path)!r} is a directory, not a file")
    with path.open("rb") as f:
        head = f.read(4096)
    if not head:
        raise ValueError(f"{what} {str(path)!r} is empty")
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head.startswith(_ZIP_MAGICS):
        return "npz"
    header_length = safetensors_header_length(head)
    if header_length is not None and header_length < path.stat().st_size:
        return "model"  # a safetensors file
    return "binary" if b"\x00" in head else "text"


def _load_npy(path: Path, where: str, kind: str, key: str | None = None) -> np.ndarray:
    """The array of a .npy file (memory-mapped), or one array of a .npz file (the only one, or
    ``key``)."""
    if kind == "npy":
        return open_npy(path, where)
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            if key is None and len(names) != 1:
                listed = ", ".join(map(repr, names)) or "none"
                raise LookupError(f"{where} holds {len(names)} arrays ({listed}); pick one "
                                  "with --key NAME")
            if key is not None and key not in names:
                raise LookupError(f"{where} has no array {key!r}; its arrays are "
                                  + ", ".join(map(repr, names)))
            return archive[key if key is not None else names[0]]
    except LookupError as exc:
        raise ValueError(exc.args[0]) from None
    except _BROKEN as exc:
        raise array_file_error(where, exc) from None


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """Non-blank rows of a text table as (line number, cells); the first row's delimiter
    (comma, tab, semicolon, else white space) splits them all."""
    lines = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    first = lines[0][1] if lines else ""
    delimiter = next((d for d in (",", "\t", ";") if d in first), None)
    if delimiter is None:
        return [(i, line.split()) for i, line in lines]
    cells = csv.reader([line for _, line in lines], delimiter=delimiter)
    return [(i, [c.strip() for c in row]) for (i, _), row in zip(lines, cells, strict=True)]


def _read_csv(path: Path, where: str) -> np.ndarray:
    """A numeric table; a first row with no number in it is a header and is skipped.

    ``numpy.loadtxt`` reads it; only when that fails is the text scanned cell by cell, to
    name the line and column at fault.
    """
    not_text = f"{where} is neither .npy, .npz nor UTF-8 text (CSV)"
    try:
        with path.open(encoding="utf-8") as f:
            skip, line = next((i, line) for i, line in enumerate(f, 1) if line.strip())
    except UnicodeDecodeError:
        raise ValueError(not_text) from None
    except StopIteration:
        raise ValueError(f"{where} holds only blank lines") from None
    delimiter = next((d for d in (",", "\t", ";") if d in line), None)
    header = not any(map(_is_number, _csv_rows(line)[0][1]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            X = np.loadtxt(path, delimiter=delimiter, skiprows=skip if header else skip - 1,
                           ndmin=2, encoding="utf-8", comments=None, quotechar='"')
    except UnicodeDecodeError:
        raise ValueError(not_text) from None
    except ValueError as exc:
        rows = _csv_rows(path.read_text(encoding="utf-8"))[int(header):]
        for number, cells in rows:
            if len(cells) != len(rows[0][1]):
                raise ValueError(f"{where}: line {number} has {len(cells)} values, expected "
                                 f"{len(rows[0][1])} like the first data row") from None
            for col, cell in enumerate(cells, 1):
                if not _is_number(cell):
                    raise ValueError(
                        f"{where}: line {number}, column {col} is {cell!r}, not a number; the "
                        "data must be numeric (a header row is skipped only if it holds no "
                        "number)") from None
        raise ValueError(f"{where} is not a numeric table: {exc}") from None
    if X.size == 0:
        raise ValueError(f"{where} has no data rows")
    return X


def read_data(name: str, key: str | None = None) -> np.ndarray:
    """A 2-D numeric matrix from a .npy, .npz or CSV file, with one-line errors."""
    path, where = Path(name), f"data file {name!r}"
    kind = _sniff(path, "data file")
    if kind == "model":
        raise ValueError(f"{where} is a neuncut model file, not data; give data as .npy, .npz "
                         "or .csv (the order is 'neuncut predict MODEL DATA')")
    if kind == "binary":
        raise ValueError(f"{where} is neither .npy, .npz nor a CSV text file")
    if key is not None and kind != "npz":
        raise ValueError(f"--key applies to .npz files, but {where} is a {kind} file")
    X = _read_csv(path, where) if kind == "text" else _load_npy(path, where, kind, key)
    if X.ndim != 2:
        raise ValueError(f"{where} holds an array of shape {X.shape}; expected a 2-D array "
                         "(n_samples, n_features), e.g. X.reshape(len(X), -1)")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool) or np.iscomplexobj(X):
        raise ValueError(f"{where} holds {X.dtype} values; expected real numbers")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{where} holds an empty array of shape {X.shape}")
    # A memory map is checked block by block when it is read (neuncut._streaming).
    bad = np.argwhere(~np.isfinite(X)) if not isinstance(X, np.memmap) else np.empty((0, 2))
    if bad.size:
        raise ValueError(f"{where} holds {len(bad)} NaN or infinite values (the first in row "
                         f"{bad[0][0] + 1}, column {bad[0][1] + 1}); remove or impute them")
    return X


def read_labels(name: str) -> np.ndarray:
    """A 1-D label vector from a .npy file or a text file with one label per line."""
    path, where = Path(name), f"label file {name!r}"
    kind = _sniff(path, "label file")
    if kind in ("model", "npz", "binary"):
        raise ValueError(f"{where} is not a label file; give labels as .npy or one per line in "
                         ".csv/.txt (as written by 'neuncut predict')")
    if kind == "npy":
        y = _load_npy(path, where, kind)
        y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
        if y.ndim != 1:
            raise ValueError(f"{where} holds an array of shape {y.shape}; expected 1-D labels")
        return y
    rows = _csv_rows(path.read_text(encoding="utf-8"))
    for line, cells in rows:
        if len(cells) != 1:
            raise ValueError(f"{where}: line {line} has {len(cells)} values; expected one "
                             "label per line")
    values = [cells[0] for _, cells in rows]
    if values and not _is_number(values[0]) and all(map(_is_number, values[1:])):
        values = values[1:]  # a header
    for kind_ in (int, float):
        try:
            return np.array([kind_(v) for v in values])
        except ValueError:
            continue
    return np.array(values)


def check_suffix(name: str, option: str) -> Path:
    path = Path(name)
    if path.suffix.lower() not in (".npy", ".csv", ".txt"):
        raise ValueError(f"{option} {name!r} must end in .npy, .csv or .txt")
    return path


def write_array(name: str, values: np.ndarray, option: str) -> None:
    """Write labels or memberships to .npy (exact name) or .csv/.txt (comma-separated)."""
    path = check_suffix(name, option)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".npy":
        with path.open("wb") as f:
            np.save(f, values, allow_pickle=False)
    else:
        fmt = "%d" if np.issubdtype(values.dtype, np.integer) else "%.7g"
        np.savetxt(path, values, fmt=fmt, delimiter=",")


def load_model(name: str) -> NeuNcut:
    kind = _sniff(Path(name), "model file")
    if kind in ("npy", "npz", "text"):
        raise ModelFileError(f"model file {name!r} is a data or label file ({kind}), not a "
                             "neuncut model; models are written by 'neuncut fit --out MODEL'")
    return NeuNcut.load(name)
