"""The subword half of a wordvecs store: :func:`save_subwords` and :func:`open_subwords`.

``save_subwords(model, folder)`` writes, with ``allow_pickle=False``, into the store folder under
construction::

    subwords.table.npy          float32 (rows, dim): the input table (a .ftz decoded to dense rows)
    subwords.entry_bytes.npy    uint8: the dictionary entries' exact bytes (words, then labels)
    subwords.entry_offsets.npy  int64 (entries + 1): where each entry starts and ends
    subwords.prune.npy          int32 (bucket,): bucket -> row, -1 when pruned (a pruned .ftz only)

and returns the entry the store's ``meta.json`` keeps under ``"subwords"``: the parameters
(``hash``, ``minn``, ``maxn``, ``bucket``, ``nwords``, ``hash_count``, ``seed``, ``prune_size``,
``dim``) and ``files`` (name -> bytes, sha256). ``open_subwords(folder, meta)`` checks the names,
sizes and shapes against that entry and memory-maps the table: opening takes milliseconds.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from wordvecs._hashing import sha256_fd, sha256_file
from wordvecs.errors import ArgumentTypeError, StoreError
from wordvecs.subwords import FastTextSubwords, SubwordParams, encode

__all__ = ["SUBWORDS_KIND", "SUBWORD_FILES", "open_subwords", "save_subwords", "subword_arrays",
           "subwords_from_arrays"]

SUBWORDS_KIND = "fasttext-subwords"
SUBWORDS_VERSION = 1
TABLE = "subwords.table.npy"
ENTRY_BYTES = "subwords.entry_bytes.npy"
ENTRY_OFFSETS = "subwords.entry_offsets.npy"
PRUNE = "subwords.prune.npy"
#: Every name a classifier's ``subwords/`` folder may hold: the arrays and their description.
SUBWORD_FILES = frozenset({TABLE, ENTRY_BYTES, ENTRY_OFFSETS, PRUNE, "subwords.json"})
_PARAMS = ("hash", "minn", "maxn", "bucket", "nwords", "hash_count", "seed", "prune_size")


def subword_arrays(model: FastTextSubwords) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays (file name -> array) and the fields (parameters, dim, entries) of ``model``."""
    if not isinstance(model, FastTextSubwords):
        raise ArgumentTypeError(f"cannot save subwords of type {type(model).__name__}")
    entries = [encode(w) for w in model.entries]
    offsets = np.zeros(len(entries) + 1, dtype=np.int64)
    if entries:
        np.cumsum([len(e) for e in entries], out=offsets[1:])
    arrays = {
        TABLE: np.ascontiguousarray(model.table, dtype="<f4"),
        ENTRY_BYTES: np.frombuffer(b"".join(entries), dtype=np.uint8),
        ENTRY_OFFSETS: offsets,
    }
    if model.prune is not None and model.params.prune_size > 0:
        arrays[PRUNE] = np.ascontiguousarray(model.prune, dtype="<i4")
    p = model.params
    fields: dict[str, Any] = {"kind": SUBWORDS_KIND, "version": SUBWORDS_VERSION,
                              "dim": model.dim, "entries": len(entries)}
    fields.update({k: getattr(p, k) for k in _PARAMS})
    return arrays, fields


def save_subwords(model: FastTextSubwords, folder: str | Path) -> dict[str, Any]:
    """Write ``model``'s table, dictionary and prune index as ``.npy`` files into ``folder`` (the
    store under construction); return the ``meta.json`` entry describing them."""
    arrays, meta = subword_arrays(model)
    folder = Path(folder)
    files = {}
    for name, arr in arrays.items():
        np.save(folder / name, arr, allow_pickle=False)
        files[name] = {"bytes": (folder / name).stat().st_size,
                       "sha256": sha256_file(folder / name)}
    meta["files"] = files
    return meta


def subwords_from_arrays(fields: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
                         where: str | Path) -> FastTextSubwords:
    """The subword model of ``fields`` and its (memory-mapped) ``arrays``, every shape checked;
    :class:`StoreError` naming ``where`` otherwise."""
    if fields.get("kind") != SUBWORDS_KIND or fields.get("version") != SUBWORDS_VERSION:
        raise StoreError(f"{where}: subwords of kind {fields.get('kind')!r} version "
                         f"{fields.get('version')!r}; this release reads {SUBWORDS_KIND!r} "
                         f"version {SUBWORDS_VERSION}")
    try:
        params = SubwordParams(**{k: fields[k] for k in _PARAMS})
        dim, n_entries = int(fields["dim"]), int(fields["entries"])
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"{where}: the subwords entry of meta.json is incomplete "
                         f"({exc})") from None
    for name in (TABLE, ENTRY_BYTES, ENTRY_OFFSETS):
        if name not in arrays:
            raise StoreError(f"{where}: the subword file {name} is missing")
    table, data, offsets = arrays[TABLE], arrays[ENTRY_BYTES], arrays[ENTRY_OFFSETS]
    expect_rows = params.nwords + (params.bucket if params.prune_size < 0 else params.prune_size)
    ok = (table.dtype == np.float32 and table.shape == (expect_rows, dim)
          and data.dtype == np.uint8 and data.ndim == 1
          and offsets.dtype == np.int64 and offsets.shape == (n_entries + 1,)
          and n_entries >= params.nwords
          and (n_entries == 0 or (int(offsets[0]) == 0 and int(offsets[-1]) == len(data)
                                  and bool((np.diff(offsets) >= 0).all()))))
    if not ok:
        raise StoreError(f"{where}: the subword files do not have the shapes meta.json gives "
                         f"(table {table.shape} {table.dtype}, expected ({expect_rows}, {dim}))")
    prune = None
    if params.prune_size > 0:
        prune = arrays.get(PRUNE)
        if (prune is None or prune.dtype != np.int32 or prune.shape != (params.bucket,)
                or int(prune.max(initial=-1)) >= params.prune_size):
            raise StoreError(f"{where}: {PRUNE} is not a prune index of {params.bucket} buckets")
    elif params.prune_size == 0:
        prune = np.zeros(0, dtype=np.int32)
    return FastTextSubwords(table, params, _entries(data, offsets), prune)


def _load(folder: Path, name: str, files: Mapping[str, Any], verify: bool) -> np.ndarray:
    """Open ``name`` once (a regular file, no link followed), check its size (and with
    ``verify`` its sha256) and map the array from that same descriptor: what was checked is what
    is used, even when the file is replaced meanwhile."""
    from wordvecs.formats.store import _map_npy, _Missing, _open_in

    path = folder / name
    info = files.get(name)
    try:
        if info is None:
            raise _Missing(name)
        fd = _open_in(-1, folder, name)
    except _Missing:
        raise StoreError(f"{folder}: the subword file {name} is missing") from None
    try:
        size = os.fstat(fd).st_size
        if size != info.get("bytes"):
            raise StoreError(f"{path}: {size:,} bytes, meta.json says {info.get('bytes')}")
        if verify and sha256_fd(fd) != info.get("sha256"):
            raise StoreError(f"{path}: sha256 does not match meta.json")
        return _map_npy(fd, path, None, None)
    finally:
        os.close(fd)


def _entries(data: np.ndarray, offsets: np.ndarray) -> Callable[[], list[str]]:
    def decode() -> list[str]:
        raw = bytes(data)
        bounds = offsets.tolist()
        return [raw[a:b].decode("utf-8", "surrogateescape")
                for a, b in itertools.pairwise(bounds)]
    return decode


def open_subwords(folder: str | Path, meta: Mapping[str, Any], *,
                  verify: bool = False) -> FastTextSubwords:
    """Memory-map the subword files :func:`save_subwords` wrote; ``StoreError`` when the files do
    not match ``meta`` (names, sizes, shapes; ``verify=True`` also checks the sha256)."""
    folder = Path(folder)
    if meta.get("kind") != SUBWORDS_KIND or meta.get("version") != SUBWORDS_VERSION:
        subwords_from_arrays(meta, {}, folder)  # raises: names the kind and version
    files = meta.get("files") or {}
    names = [TABLE, ENTRY_BYTES, ENTRY_OFFSETS] + ([PRUNE] if PRUNE in files else [])
    arrays = {name: _load(folder, name, files, verify) for name in names}
    return subwords_from_arrays(meta, arrays, folder)
