"""A trained classifier keeps the subword advantage at prediction time (issue 10, item 5).

A classifier's Embedding has a row per training-vocabulary word; a word it never saw (a typo, a
name) would get the unknown-word row. :class:`SubwordFallback` gives such a word its subword
vector instead, computed as fastText computes it from a bucket table saved with the classifier:

- **compact** (the default): only the bucket rows that the n-grams of the training vocabulary use
  are kept, behind a prune index, exactly as fastText's ``.ftz`` prunes. An unseen word's vector
  is the mean of its n-gram rows that were kept (a typo shares most n-grams with the word it
  mangles); a word none of whose n-grams was kept still gets the unknown-word row.
- ``compact=False`` keeps the whole table: an unseen word gets fastText's exact vector.

At prediction, the texts' unseen words get extra Embedding rows (their subword vectors) in a copy
of the model whose Embedding is that much larger; every other weight is the trained one. The
files are ``.npy`` (``allow_pickle=False``) written by :func:`~wordvecs.formats.subword_store.
save_subwords`; no pickle.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from wordvecs.errors import UsageError
from wordvecs.subwords import FastTextSubwords, SubwordParams, encode, word_rows

if TYPE_CHECKING:
    from wordvecs.training.classifier import Classifier

__all__ = ["SubwordFallback"]

_META = "subwords.json"


class SubwordFallback:
    """Subword vectors for the words a classifier's vocabulary lacks."""

    def __init__(self, subwords: FastTextSubwords) -> None:
        self.subwords = subwords

    @classmethod
    def from_vectors(cls, subwords: FastTextSubwords, words: Sequence[str], *,
                     compact: bool = True) -> SubwordFallback:
        """The fallback of a classifier trained on ``words`` with vectors whose subword model is
        ``subwords``; ``compact`` keeps only the bucket rows those words' n-grams use."""
        p = subwords.params
        if not compact:  # the whole table: fastText's exact vector for every unseen word
            return cls(FastTextSubwords(subwords.table, p, [], subwords.prune))
        # the buckets of the vocabulary's n-grams (rows >= nwords), as pruned rows of a .ftz
        used: set[int] = set()
        for w in words:
            used.update(r - p.nwords for r in word_rows(p, encode(w), -1, subwords.prune)
                        if r >= p.nwords)
        rows = np.array(sorted(used), dtype=np.int64)
        prune = np.full(p.bucket, -1, dtype=np.int32)
        if p.prune_size > 0:  # already pruned: map bucket -> old row -> new row
            assert subwords.prune is not None
            new_of_old = np.full(p.prune_size, -1, dtype=np.int32)
            new_of_old[rows] = np.arange(len(rows), dtype=np.int32)
            has = subwords.prune >= 0
            prune[has] = new_of_old[subwords.prune[has]]
        else:
            prune[rows] = np.arange(len(rows), dtype=np.int32)
        table = np.ascontiguousarray(subwords.table[p.nwords + rows], dtype=np.float32)
        params = SubwordParams(minn=p.minn, maxn=p.maxn, bucket=p.bucket, nwords=0, hash=p.hash,
                               hash_count=p.hash_count, seed=p.seed, prune_size=len(rows))
        return cls(FastTextSubwords(table.reshape(len(rows), subwords.dim), params, [],
                                    prune if len(rows) else np.zeros(0, dtype=np.int32)))

    @property
    def nbytes(self) -> int:
        """Bytes of the table (and prune index) saved with the classifier."""
        prune = self.subwords.prune
        return int(self.subwords.table.nbytes + (prune.nbytes if prune is not None else 0))

    def __repr__(self) -> str:
        return f"<SubwordFallback {self.subwords.table.shape[0]:,} rows, {self.nbytes:,} bytes>"

    # --- files ------------------------------------------------------------------------------------
    def save(self, folder: str | Path) -> dict[str, Any]:
        """Write the table into ``folder`` (created); returns (and writes) its description."""
        from wordvecs.formats.subword_store import save_subwords

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = save_subwords(self.subwords, folder)
        (folder / _META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return meta

    @classmethod
    def load(cls, folder: str | Path, expected: Any = None) -> SubwordFallback:
        """Open a fallback written by :meth:`save` (memory-mapped, every digest checked).

        ``expected``: the description the classifier recorded when it saved the table; the
        table's own ``subwords.json`` must be that one (a swapped table is refused).
        """
        from wordvecs.errors import StoreError
        from wordvecs.formats.subword_store import open_subwords

        folder = Path(folder)
        try:
            meta = json.loads((folder / _META).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise StoreError(f"{folder}: no readable {_META} ({exc})") from None
        if expected is not None and meta != expected:
            raise StoreError(f"{folder / _META}: not the subword table this classifier saved")
        return cls(open_subwords(folder, meta, verify=True))

    # --- prediction -------------------------------------------------------------------------------
    def encode(self, clf: Classifier, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, extra_rows)``: the texts' token ids, where an unseen word with a subword
        vector gets an id past the vocabulary, and the vectors of those extra ids."""
        vocab = clf.vocabulary
        seqs = [vocab.tokenizer(t) for t in texts]
        unseen = list(dict.fromkeys(t for s in seqs for t in s if t not in vocab.index))
        try:
            vecs, found = self.subwords.word_vectors(unseen)
        except UnicodeEncodeError:  # a lone surrogate: say which text, as Classifier does
            from wordvecs.errors import DataError
            from wordvecs.text.dataset_io import text_problem

            for n, t in enumerate(texts, start=1):
                problem = text_problem(t)
                if problem is not None:
                    raise DataError(f"text {n} {problem}") from None
            raise
        extra = {w: len(vocab) + k for k, w in enumerate(w for w, f in zip(unseen, found) if f)}
        ids = np.zeros((len(texts), clf.max_len), dtype=np.int32)
        get = vocab.index.get
        for i, s in enumerate(seqs):
            row = [get(t) or extra.get(t, 1) for t in s[:clf.max_len]]
            ids[i, :len(row)] = row
        return ids, np.ascontiguousarray(vecs[found], dtype=np.float32)

    def model_for(self, clf: Classifier, extra: np.ndarray) -> Any:
        """The classifier's model, widened by the ``extra`` rows of :meth:`encode` if any."""
        if not len(extra):
            return clf.model
        from wordvecs.keras import keras_module

        return _widened(keras_module(), clf.model, extra)

    def predict_proba(self, clf: Classifier, texts: Sequence[str]) -> np.ndarray:
        """The classifier's probabilities with unseen words given their subword vectors."""
        ids, extra = self.encode(clf, texts)
        model = self.model_for(clf, extra)
        return np.asarray(model.predict(ids, batch_size=256, verbose=0), dtype=np.float32)


def _widened(keras: Any, model: Any, extra: np.ndarray) -> Any:
    """A copy of ``model`` whose Embedding has ``extra`` rows appended (all else unchanged)."""
    emb = next(la for la in model.layers if la.__class__.__name__ == "Embedding")
    weights = np.asarray(emb.get_weights()[0], dtype=np.float32)
    if extra.shape[1] != weights.shape[1]:
        raise UsageError(f"subword vectors of dim {extra.shape[1]} for an Embedding of dim "
                         f"{weights.shape[1]}")

    def clone(layer: Any) -> Any:
        if layer is emb:
            return keras.layers.Embedding(weights.shape[0] + len(extra), weights.shape[1],
                                          mask_zero=emb.mask_zero, name=emb.name)
        return layer.__class__.from_config(layer.get_config())

    wide = keras.models.clone_model(model, clone_function=clone)
    for old, new in zip(model.layers, wide.layers, strict=True):
        if old is emb:
            new.set_weights([np.concatenate([weights, extra])])
        elif old.get_weights():
            new.set_weights(old.get_weights())
    return wide
