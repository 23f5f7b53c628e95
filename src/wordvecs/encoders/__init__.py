"""Transformer encoders of the BERT family, in plain Keras 3 layers (the ``bert`` extra).

* :func:`wordvecs.distill` (:mod:`.distill`) turns an encoder into ordinary :class:`Vectors` by
  the model2vec method: each word passed through the transformer alone, its output states
  mean-pooled, reduced by PCA and weighted by SIF;
* :mod:`.contextual` puts the frozen encoder in front of a small classifier head.

Weights are read with ``safetensors`` only (numpy arrays; no pickle, no torch), the tokenizer with
``tokenizers``. Importing this package checks those optional dependencies once, here.
"""

from __future__ import annotations

import importlib.util

from wordvecs.errors import MissingExtraError

_NEEDED = ("safetensors", "tokenizers", "keras")
_missing = [m for m in _NEEDED if importlib.util.find_spec(m) is None]
if _missing:  # pragma: no cover - depends on the environment
    raise MissingExtraError(f"{', '.join(_missing)} not installed: the BERT encoders need "
                            "pip install 'wordvecs[bert]'")

__all__: list[str] = []
