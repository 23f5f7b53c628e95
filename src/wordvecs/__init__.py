"""wordvecs: pre-trained word embeddings (GloVe, word2vec, fastText) for transfer learning in Keras 3.

``import wordvecs`` is light: Keras, TensorFlow and matplotlib load only when a function needs them.
"""

from __future__ import annotations

from typing import Any

from .errors import (
    ChecksumError,
    DataError,
    DownloadError,
    FormatError,
    MissingExtraError,
    SourceError,
    StoreError,
    VocabularyError,
    WordNotFound,
    WordvecsError,
    WordvecsWarning,
)
from .loading import load
from .vectors import Vectors

__version__ = "0.1.0"

__all__ = [
    "load",
    "Vectors",
    "build_matrix",
    "EmbeddingMatrix",
    "load_classifier",
    "WordvecsError",
    "FormatError",
    "SourceError",
    "StoreError",
    "VocabularyError",
    "DataError",
    "DownloadError",
    "ChecksumError",
    "MissingExtraError",
    "WordNotFound",
    "WordvecsWarning",
    "__version__",
]

_LAZY = {
    "build_matrix": ("wordvecs.matrix", "build_matrix"),
    "EmbeddingMatrix": ("wordvecs.matrix", "EmbeddingMatrix"),
    "load_classifier": ("wordvecs.train", "load_classifier"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'wordvecs' has no attribute {name!r}")
