"""wordvecs: pre-trained word embeddings (GloVe, word2vec, fastText) for Keras 3 transfer learning.

``import wordvecs`` is light: Keras, TensorFlow and matplotlib load only when a function needs them.
"""

from __future__ import annotations

from typing import Any

from wordvecs._version import __version__
from wordvecs.errors import (
    ArgumentTypeError,
    ChecksumError,
    DataError,
    DownloadError,
    FormatError,
    MissingExtraError,
    SourceError,
    StoreError,
    UnwritableError,
    UsageError,
    VocabularyError,
    WordNotFound,
    WordvecsError,
    WordvecsWarning,
    WriteError,
)
from wordvecs.loading import load
from wordvecs.vectors import Vectors

__all__ = [
    "ApproximateIndex",
    "ArgumentTypeError",
    "ChecksumError",
    "DataError",
    "DownloadError",
    "EmbeddingMatrix",
    "FormatError",
    "MissingExtraError",
    "SourceError",
    "StoreError",
    "UnwritableError",
    "UsageError",
    "Vectors",
    "VocabularyError",
    "WordNotFound",
    "WordvecsError",
    "WordvecsWarning",
    "WriteError",
    "__version__",
    "build_matrix",
    "distill",
    "load",
    "load_classifier",
]

_LAZY = {
    "ApproximateIndex": ("wordvecs.similarity", "ApproximateIndex"),
    "build_matrix": ("wordvecs.matrix", "build_matrix"),
    "distill": ("wordvecs.encoders.distill", "distill"),
    "EmbeddingMatrix": ("wordvecs.matrix", "EmbeddingMatrix"),
    "load_classifier": ("wordvecs.training.train", "load_classifier"),
}
# submodules reachable as attributes without an import of their own (each is light to import:
# ``wordvecs.keras`` imports Keras only inside its functions)
_LAZY_MODULES = ("keras",)


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name in _LAZY_MODULES:
        return importlib.import_module(f"wordvecs.{name}")
    raise AttributeError(f"module 'wordvecs' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_MODULES))
