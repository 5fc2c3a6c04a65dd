"""The neuncut model file: one safetensors file with a JSON header, written atomically.

A model file is a plain `safetensors <https://huggingface.co/docs/safetensors>`_ file.
Its metadata holds, as strings:

``"neuncut"``
    the caller's JSON header (hyper-parameters, fitted attributes...);
``"format_version"``
    :data:`FORMAT_VERSION` of the writer;
``"library_version"``
    the neuncut version of the writer;
``"checksum"``
    sha256 over the tensors' names, dtypes, shapes and bytes, in sorted-name order.

Loading never unpickles anything, so a model file cannot run code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as _st_load
from safetensors.torch import save as _st_save
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._files import atomic_write, read_safetensors_header, sha256_hex
from ._version import __version__
from .exceptions import ModelFileError

__all__ = [
    "FORMAT_VERSION",
    "load_estimator",
    "load_tensors",
    "save_estimator",
    "save_tensors",
    "scores_from_json",
    "scores_to_json",
]

FORMAT_VERSION = 4
"""Version of the model-file layout written by this neuncut (2: ``n_clusters_`` and
``n_clusters_scores_`` in the header, ``n_clusters="auto"``; 3: ``hidden_layer_sizes_``,
``hidden_layer_sizes="auto"``; 4: ``encoder_layer_sizes_`` and the encoder's weights, the
``representation`` parameters; files of formats 1 to 3 are read too)."""

_RESERVED = ("format_version", "library_version", "checksum")


def _checksum(tensors: Mapping[str, torch.Tensor]) -> str:
    """sha256 hex digest over names, dtypes, shapes and bytes of the tensors, sorted by name."""
    parts: list[Any] = []
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        descriptor = [name, str(t.dtype), list(t.shape), t.numel() * t.element_size()]
        parts += [descriptor, b"\n", t.reshape(-1).view(torch.uint8).numpy()]
    return sha256_hex(*parts)


def _prepare(tensors: Any, header: Any) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Validate the inputs; return contiguous CPU copies of the tensors and the metadata."""
    if not isinstance(tensors, Mapping):
        raise TypeError(f"tensors must be a dict of str to torch.Tensor, got {type(tensors)}")
    copies = {}
    for name, t in tensors.items():
        if not isinstance(name, str) or not isinstance(t, torch.Tensor):
            raise TypeError(f"tensors must map str to torch.Tensor, got {name!r}: {type(t)}")
        copies[name] = t.detach().to("cpu", copy=True).contiguous()
    if not isinstance(header, Mapping):
        raise TypeError(f"header must be a JSON-serialisable dict, got {type(header)}")
    user = {k: v for k, v in header.items() if k not in _RESERVED}
    try:
        header_json = json.dumps(user, allow_nan=True)
    except (TypeError, ValueError) as err:
        raise ValueError(f"header must be JSON-serialisable: {err}") from err
    metadata = {
        "neuncut": header_json,
        "format_version": str(FORMAT_VERSION),
        "library_version": __version__,
        "checksum": _checksum(copies),
    }
    return copies, metadata


def save_tensors(
    path: str | os.PathLike[str], tensors: Mapping[str, torch.Tensor], header: Mapping[str, Any]
) -> None:
    """Write tensors and a JSON header to a neuncut model file, atomically.

    The file is first written to a temporary file in the same directory, flushed
    and synced to disk, then renamed over ``path``: a crash or an error leaves
    either the old file or the new one, never a partial file.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; its directory must exist.
    tensors : dict of str to torch.Tensor
        The tensors to store (saved as contiguous CPU copies).
    header : dict
        JSON-serialisable data stored alongside. The keys ``"format_version"``,
        ``"library_version"`` and ``"checksum"`` are reserved: the writer sets them.

    Raises
    ------
    TypeError
        If ``tensors`` or ``header`` has the wrong type.
    ValueError
        If ``header`` is not JSON-serialisable.

    Examples
    --------
    >>> import tempfile, torch
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_tensors(f"{d}/m.safetensors", {"w": torch.eye(2)}, {"n_clusters": 2})
    ...     tensors, header = load_tensors(f"{d}/m.safetensors")
    >>> header["n_clusters"], header["format_version"] == FORMAT_VERSION
    (2, True)
    >>> torch.equal(tensors["w"], torch.eye(2))
    True
    """
    copies, metadata = _prepare(tensors, header)
    payload = _st_save(copies, metadata=metadata)
    with atomic_write(path) as f:
        f.write(payload)


def _read_metadata(data: bytes, where: str) -> dict[str, Any]:
    """Parse the safetensors header of ``data`` and return its ``__metadata__``."""
    try:
        st_header = read_safetensors_header(data, where)
    except ValueError as exc:
        raise ModelFileError(str(exc)) from None
    metadata = st_header.get("__metadata__")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("neuncut"), str):
        raise ModelFileError(
            f"{where} is not a neuncut model file (a safetensors file without 'neuncut' metadata)"
        )
    return metadata


def _check_format(metadata: dict[str, Any], where: str) -> int:
    """The file's format version, refused when it is unknown or newer than this neuncut's."""
    raw = metadata.get("format_version")
    try:
        version = int(raw)  # type: ignore[arg-type]  # None and junk are refused below
    except (TypeError, ValueError):
        raise ModelFileError(f"{where} is corrupted (format_version {raw!r})") from None
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{where} was written by a newer neuncut (format {version}; this neuncut reads "
            f"format {FORMAT_VERSION}); upgrade neuncut"
        )
    if version < 1:
        raise ModelFileError(f"{where} is corrupted (format_version {raw!r})")
    return version


def load_tensors(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a neuncut model file written by :func:`save_tensors`.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.

    Returns
    -------
    tensors : dict of str to torch.Tensor
        The stored tensors, on the CPU.
    header : dict
        The stored JSON header, with ``"format_version"`` (int) and
        ``"library_version"`` (str) of the writer added.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If the file is not a safetensors file, is truncated or corrupted, lacks the
        neuncut metadata, was written by a newer neuncut, or fails its checksum.

    Examples
    --------
    >>> import tempfile, torch
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_tensors(f"{d}/m.safetensors", {"b": torch.zeros(3)}, {})
    ...     tensors, header = load_tensors(f"{d}/m.safetensors")
    >>> list(tensors), sorted(header)
    (['b'], ['format_version', 'library_version'])
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    where = f"model file {str(path)!r}"
    data = path.read_bytes()
    metadata = _read_metadata(data, where)
    version = _check_format(metadata, where)
    try:
        tensors = _st_load(data)
    except Exception as err:  # safetensors raises its own SafetensorError
        raise ModelFileError(f"{where} is truncated or corrupted ({err})") from None
    if _checksum(tensors) != metadata.get("checksum"):
        raise ModelFileError(f"{where} failed its checksum: the tensors were altered")
    try:
        header = json.loads(metadata["neuncut"])
    except ValueError:
        raise ModelFileError(f"{where} is corrupted (its neuncut header is not JSON)") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{where} is corrupted (its neuncut header is not a JSON object)")
    header["format_version"] = version
    header["library_version"] = str(metadata.get("library_version", "unknown"))
    return tensors, header


def scores_to_json(scores: dict[str, np.ndarray] | None) -> dict[str, list[float]] | None:
    """``n_clusters_scores_`` as JSON (lists; NaN is written as NaN).

    Examples
    --------
    >>> scores = {"gap": np.array([np.nan, 0.5])}
    >>> scores_to_json(scores)
    {'gap': [nan, 0.5]}
    >>> scores_from_json(scores_to_json(scores))["gap"].tolist()
    [nan, 0.5]
    """
    return None if scores is None else {k: [float(v) for v in a] for k, a in scores.items()}


def scores_from_json(value: dict[str, list[float]] | None) -> dict[str, np.ndarray] | None:
    """The inverse of :func:`scores_to_json`."""
    if value is None:
        return None
    return {k: np.asarray(v, dtype=np.float64) for k, v in value.items()}


# Fitted attributes of an estimator stored in the JSON header (the network and labels_ are
# tensors).
_FITTED_ATTRIBUTES = (
    "n_features_in_", "sigma_", "penalty_", "loss_curve_", "cut_curve_", "ortho_curve_",
    "n_iter_", "n_steps_", "timings_", "init_ncut_", "n_clusters_", "n_clusters_scores_",
    "hidden_layer_sizes_", "encoder_layer_sizes_", "encoder_loss_curve_",
)


def save_estimator(model: Any, path: str | os.PathLike[str]) -> None:
    """Write a fitted NeuNcut to ``path``: its parameters and fitted attributes in the header,
    its network weights and ``labels_`` as tensors (see :meth:`neuncut.NeuNcut.save`)."""
    check_is_fitted(model, "network_")
    if callable(model.affinity):
        raise ValueError(
            "affinity is a callable, which a model file cannot store; refit with"
            " affinity='knn' or 'rbf' to save, or pickle the estimator yourself."
        )
    params = model.get_params()
    if not isinstance(params["hidden_layer_sizes"], str):  # "auto" is stored as it is
        params["hidden_layer_sizes"] = [int(h) for h in np.atleast_1d(params["hidden_layer_sizes"])]
    params["encoder_layer_sizes"] = [int(h) for h in np.atleast_1d(params["encoder_layer_sizes"])]
    if not (params["random_state"] is None or isinstance(params["random_state"], Integral)):
        params["random_state"] = None  # a RandomState instance is not stored
    fitted = {name: getattr(model, name) for name in _FITTED_ATTRIBUTES}
    fitted["n_clusters_scores_"] = scores_to_json(fitted["n_clusters_scores_"])
    if hasattr(model, "feature_names_in_"):
        fitted["feature_names_in_"] = [str(c) for c in model.feature_names_in_]
    tensors = {f"network.{k}": v for k, v in model.network_.state_dict().items()}
    tensors["labels_"] = torch.from_numpy(np.asarray(model.labels_, dtype=np.int64))
    header = {"estimator": type(model).__name__, "params": params, "fitted": fitted}
    save_tensors(path, tensors, header)


def load_estimator(cls: type, path: str | os.PathLike[str]) -> Any:
    """Rebuild an estimator of class ``cls`` written by :func:`save_estimator`."""
    from ._encoder import Encoder
    from ._network import EncodedNetwork, MembershipNetwork

    tensors, header = load_tensors(path)
    if header.get("estimator") != cls.__name__:
        raise ModelFileError(f"{path} does not hold a {cls.__name__} model.")
    params = dict(header["params"])
    if not isinstance(params["hidden_layer_sizes"], str):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    if "encoder_layer_sizes" in params:
        params["encoder_layer_sizes"] = tuple(params["encoder_layer_sizes"])
    else:  # before format 4, the rows themselves
        params["representation"] = "none"
    model = cls(**params)
    fitted = {"n_clusters_": params["n_clusters"], "n_clusters_scores_": None,  # format 1
              "hidden_layer_sizes_": params["hidden_layer_sizes"],  # before "auto"
              "encoder_layer_sizes_": (), "encoder_loss_curve_": [],  # before format 4
              **header["fitted"]}
    fitted["hidden_layer_sizes_"] = tuple(fitted["hidden_layer_sizes_"])
    fitted["encoder_layer_sizes_"] = encoder_sizes = tuple(fitted["encoder_layer_sizes_"])
    n_features, gen = fitted["n_features_in_"], torch.Generator().manual_seed(0)
    head_features = encoder_sizes[-1] if encoder_sizes else n_features
    head = MembershipNetwork(
        head_features, fitted["hidden_layer_sizes_"], fitted["n_clusters_"], generator=gen
    )
    network: nn.Module = head
    if encoder_sizes:
        network = EncodedNetwork(Encoder(n_features, encoder_sizes, generator=gen), head)
    state = {k.removeprefix("network."): v for k, v in tensors.items() if k != "labels_"}
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(f"{path}: weights do not match the header: {exc}") from None
    for name, value in fitted.items():
        if name == "feature_names_in_":
            value = np.asarray(value, dtype=object)
        elif name == "n_clusters_scores_":
            value = scores_from_json(value)
        setattr(model, name, value)
    model.network_ = network.eval()
    model.labels_ = tensors["labels_"].numpy()
    return model
