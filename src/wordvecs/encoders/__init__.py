"""Transformer encoders of the BERT family, in plain Keras 3 layers (the ``bert`` extra).

* :func:`wordvecs.distill` (:mod:`.distill`) turns an encoder into ordinary :class:`Vectors` by
  the model2vec method: each word passed through the transformer alone, its output states
  mean-pooled, reduced by PCA and weighted by SIF;
* :mod:`.contextual` puts the frozen encoder in front of a small classifier head.

Weights are read with ``safetensors`` only (numpy arrays; no pickle, no torch), the tokenizer with
``tokenizers``. Importing this package checks those optional dependencies once, here.
"""

from __future__ import annotations

from wordvecs.errors import require

for _needed in ("safetensors", "tokenizers", "keras"):
    require(_needed, "bert", load=False)

__all__: list[str] = []
