"""The wordvecs store: a folder that opens memory-mapped in milliseconds, whatever its size.

Layout (no pickle anywhere)::

    NAME.wv/
      vectors.npy    raw little-endian float32, C order, shape (count, dim)
      words.arrow    Arrow IPC file, one large_string column "word", in row order
      meta.json      {"format": "wordvecs-store", "version": 1, "count", "dim", "dtype",
                      "files": {name: {"bytes", "sha256"}}, "source", "created_by"}

``meta.json`` is written last and the folder is renamed into place, so an interrupted save leaves
nothing that loads. Opening checks the version, the sizes and shapes (cheap); ``verify=True`` also
checks the sha256 digests (reads every byte).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from .._arrow import strings
from .._atomic import atomic_dir
from ..errors import StoreError
from ..vectors import Vectors

__all__ = ["STORE_VERSION", "is_store", "read_store", "verify_store", "write_store"]

STORE_FORMAT = "wordvecs-store"
STORE_VERSION = 1
_META = "meta.json"
_VECTORS = "vectors.npy"
_WORDS = "words.arrow"


def is_store(path: Path) -> bool:
    """True when ``path`` is a folder holding a store's ``meta.json``."""
    return path.is_dir() and (path / _META).is_file()


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def write_store(vectors: Vectors, path: Path, *, progress: bool | None = None) -> Path:
    """Write ``vectors`` as a store at ``path`` (atomically; an existing store is replaced)."""
    import pyarrow as pa

    from .. import __version__

    matrix = vectors.matrix
    with atomic_dir(path) as tmp:
        np.save(tmp / _VECTORS, np.ascontiguousarray(matrix, dtype="<f4"), allow_pickle=False)
        table = pa.table({"word": strings(vectors.words, large=True)})  # pa.array imports pandas
        with pa.OSFile(str(tmp / _WORDS), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
            w.write_table(table)
        files = {name: {"bytes": (tmp / name).stat().st_size, "sha256": _sha256(tmp / name)}
                 for name in (_VECTORS, _WORDS)}
        meta = {
            "format": STORE_FORMAT,
            "version": STORE_VERSION,
            "count": len(vectors),
            "dim": vectors.dim,
            "dtype": "float32",
            "byte_order": "little",
            "files": files,
            "source": vectors.source,
            "created_by": f"wordvecs {__version__}",
        }
        (tmp / _META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return path


def _read_meta(path: Path) -> dict[str, Any]:
    meta_path = path / _META
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(f"{path}: not a wordvecs store (no {_META})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StoreError(f"{meta_path}: damaged store metadata ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != STORE_FORMAT:
        raise StoreError(f"{meta_path}: not a wordvecs store (format={meta.get('format')!r} "
                         f"where {STORE_FORMAT!r} was expected)" if isinstance(meta, dict) else
                         f"{meta_path}: damaged store metadata (not a JSON object)")
    version = meta.get("version")
    if version != STORE_VERSION:
        raise StoreError(f"{path}: store format version {version!r}; this wordvecs reads version "
                         f"{STORE_VERSION} (re-create the store with this version, or upgrade)")
    for key in ("count", "dim"):
        if not isinstance(meta.get(key), int) or meta[key] < 0:
            raise StoreError(f"{meta_path}: damaged store metadata ({key}={meta.get(key)!r})")
    if meta.get("dtype") != "float32":
        raise StoreError(f"{meta_path}: dtype {meta.get('dtype')!r}; expected 'float32'")
    files = meta.get("files")
    if not isinstance(files, dict) or set(files) != {_VECTORS, _WORDS}:
        raise StoreError(f"{meta_path}: damaged store metadata (files={files!r})")
    for name, info in files.items():
        f = path / name
        if not f.is_file():
            raise StoreError(f"{path}: damaged store: {name} is missing")
        size = f.stat().st_size
        if not isinstance(info, dict) or size != info.get("bytes"):
            raise StoreError(f"{f}: damaged store: {size} bytes where the metadata says "
                             f"{info.get('bytes') if isinstance(info, dict) else '?'}")
    return meta


def verify_store(path: Path) -> None:
    """Check every file's sha256 against the metadata; :class:`StoreError` on a mismatch."""
    meta = _read_meta(path)
    for name, info in meta["files"].items():
        actual = _sha256(path / name)
        if actual != info.get("sha256"):
            raise StoreError(f"{path / name}: damaged store: sha256 {actual} where the metadata "
                             f"says {info.get('sha256')}")


def read_store(path: Path, *, verify: bool = False) -> Vectors:
    """Open a store memory-mapped: the matrix and the words are not read until used."""
    import pyarrow as pa

    meta = _read_meta(path)
    if verify:
        verify_store(path)
    try:
        matrix = np.load(path / _VECTORS, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise StoreError(f"{path / _VECTORS}: damaged store ({exc})") from None
    expected = (meta["count"], meta["dim"])
    if matrix.shape != expected or matrix.dtype != np.dtype("<f4") or not matrix.flags.c_contiguous:
        raise StoreError(f"{path / _VECTORS}: damaged store: shape {matrix.shape} {matrix.dtype} "
                         f"where the metadata says {expected} float32 (C order)")
    try:
        with pa.memory_map(str(path / _WORDS), "r") as source:
            table = pa.ipc.open_file(source).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise StoreError(f"{path / _WORDS}: damaged store ({exc})") from None
    if table.num_columns != 1 or table.num_rows != meta["count"]:
        raise StoreError(f"{path / _WORDS}: damaged store: {table.num_rows} words where the "
                         f"metadata says {meta['count']}")
    words = table.column(0)
    if words.num_chunks == 1:
        words = words.chunk(0)
    return Vectors(words, matrix, source=str(path), format="store")
