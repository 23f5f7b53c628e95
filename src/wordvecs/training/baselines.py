"""Baselines for the transfer-learning experiment, their combination, and test-set intervals.

Two baselines are fitted on the same training subset as the embedding modes and tuned on the same
validation split (never on test):

* :func:`tfidf_logreg`: TF-IDF over word 1-2-grams and character 2-5-grams (within word
  boundaries, sublinear term frequency) and a multinomial logistic regression;
* :func:`mean_vectors_logreg`: each document the mean of the pre-trained vectors of its tokens,
  standardised, and a logistic regression;
* :func:`sentence_logreg`: each document a sentence embedding (MiniLM's, as sentence-transformers
  makes it: the mean of the encoder's output states, L2-normalised) and a logistic regression.

:func:`stack` combines models (a baseline and embedding models, say): each model's probabilities
tempered on the validation split, then averaged. :func:`bootstrap_interval` gives a test accuracy
a percentile bootstrap interval over the test documents, :func:`paired_lead` the same for the
difference of two models' accuracies (on the same resamples), and :func:`verdict` says in one
sentence which model won and whether its lead over the best baseline is more than the noise.

scikit-learn (the ``baselines`` extra, which the ``keras`` and ``jax`` extras include) is imported
only when a baseline is fitted; the combination and the intervals need numpy only.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from wordvecs.errors import DataError, UsageError, require
from wordvecs.logreg import SENTENCE_CS, choose, choose_c, logreg

if TYPE_CHECKING:
    from wordvecs.vectors import Vectors

__all__ = [
    "BASELINE_NAMES",
    "DEFAULT_CS",
    "BaselineModel",
    "ModeResult",
    "Stacker",
    "bootstrap_accuracies",
    "bootstrap_interval",
    "fit_stack",
    "mean_vectors_logreg",
    "paired_lead",
    "sentence_logreg",
    "stack",
    "tfidf_logreg",
    "verdict",
]

#: The baselines' short names (a report's mode column) and the names a reader sees.
BASELINE_NAMES = {"tfidf": "TF-IDF + logistic regression",
                  "meanvec": "mean vectors + logistic regression",
                  "sentvec": "sentence embeddings + logistic regression"}
#: The inverse regularisation strengths tried on the validation split (ties: the smaller).
DEFAULT_CS: tuple[float, ...] = (1.0, 10.0, 100.0)
#: Those of the mean-vector baseline (dense, standardised features want stronger regularisation).
MEANVEC_CS: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)


def _sklearn(module: str) -> Any:
    return require(f"sklearn.{module}", "baselines")


# --- the fitted model ----------------------------------------------------------------------------
@dataclass
class BaselineModel:
    """A fitted baseline: its hyper-parameters chosen on validation, fitted on the training texts.

    Attributes:
        mode: the short name (``"tfidf"``, ``"meanvec"``), for a report's mode column.
        name: the name a reader sees (``"TF-IDF + logistic regression"``).
        params: the chosen settings (``C``, and the feature counts or the normalisation).
        search: every setting tried, with its validation accuracy, in the order tried.
        val_accuracy: the chosen setting's accuracy on the validation split.
        fit_seconds: the whole search, features included.
        classes: the labels of :meth:`predict_proba`'s columns, in order.
    """

    mode: str
    name: str
    params: dict[str, Any]
    search: list[dict[str, Any]]
    val_accuracy: float
    fit_seconds: float
    classes: np.ndarray
    _proba: Callable[[Sequence[str]], np.ndarray] = field(repr=False)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape ``(len(texts), len(self.classes))``, rows summing to 1."""
        return self._proba(list(texts))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable label of each text (an element of :attr:`classes`)."""
        return np.asarray(self.classes[np.argmax(self.predict_proba(texts), axis=1)])


def _check_xy(texts: Sequence[Any], y: Any, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(texts):
        raise DataError(f"{what}: {len(texts)} texts but labels of shape {y.shape}")
    if len(y) == 0:
        raise DataError(f"{what}: no documents")
    return y


def _classes(train_y: np.ndarray, n_classes: int | None) -> np.ndarray:
    """The output columns' labels: ``range(n_classes)`` when given, else the sorted labels."""
    if n_classes is None:
        return np.unique(train_y)
    if not np.issubdtype(train_y.dtype, np.integer) or train_y.min() < 0 or \
            train_y.max() >= n_classes:
        raise DataError(f"with n_classes={n_classes} the labels must be integers in "
                        f"0..{n_classes - 1}")
    return np.arange(n_classes)


def _widen(p: np.ndarray, fitted: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Spread a classifier's columns (its ``classes_``) onto ``classes`` (absent ones: 0)."""
    if len(fitted) == len(classes) and np.array_equal(fitted, classes):
        return p
    out = np.zeros((len(p), len(classes)), dtype=p.dtype)
    out[:, np.searchsorted(classes, fitted)] = p
    return out


# --- TF-IDF + logistic regression ----------------------------------------------------------------
def tfidf_features() -> Any:
    """The (unfitted) TF-IDF features: word 1-2-grams and character 2-5-grams within word
    boundaries (``char_wb``), each block with sublinear tf and L2-normalised rows, side by side.

    Lowercased, every n-gram of the training texts kept (scikit-learn's defaults otherwise).
    """
    text = _sklearn("feature_extraction.text")
    pipeline = _sklearn("pipeline")
    return pipeline.FeatureUnion([
        ("word", text.TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                      dtype=np.float64)),
        ("char", text.TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                      dtype=np.float64)),
    ])


def tfidf_logreg(train_texts: Sequence[str], train_y: Any, val_texts: Sequence[str],
                 val_y: Any, *, seed: int = 0, cs: Sequence[float] = DEFAULT_CS,
                 n_classes: int | None = None) -> BaselineModel:
    """TF-IDF (:func:`tfidf_features`) + logistic regression, ``C`` chosen on validation.

    The features are fitted on ``train_texts`` alone; for each ``C`` in ``cs`` (tried in
    increasing order) a logistic regression (lbfgs, multinomial) is fitted on the training texts
    and scored on the validation texts; the most accurate wins, the smallest ``C`` among equals.
    The winning fit is the returned model: trained on the training texts only, never on
    validation or test ones (and the test split is never an argument).

    Args:
        train_texts, train_y: the training subset (labels: any sortable values, or class
            indices).
        val_texts, val_y: the validation split, for choosing ``C`` only.
        seed: the logistic regression's ``random_state`` (lbfgs itself is deterministic).
        cs: the inverse regularisation strengths to try.
        n_classes: with integer labels ``0..n_classes-1``, :meth:`BaselineModel.predict_proba`
            has exactly ``n_classes`` columns in that order (a class missing from the training
            subset gets probability 0), as a Keras softmax does.
    """
    train_y = _check_xy(train_texts, train_y, "training texts")
    val_y = _check_xy(val_texts, val_y, "validation texts")
    if not cs:
        raise UsageError("cs: no value of C to try")
    classes = _classes(train_y, n_classes)
    t0 = time.perf_counter()
    features = tfidf_features()
    x_tr = features.fit_transform(list(train_texts))
    x_va = features.transform(list(val_texts))

    settings, clf, acc, search = choose_c(x_tr, train_y, x_va, val_y, cs, seed)
    seconds = time.perf_counter() - t0
    word, char = (features.transformer_list[i][1] for i in (0, 1))

    def proba(texts: Sequence[str]) -> np.ndarray:
        return _widen(clf.predict_proba(features.transform(texts)), clf.classes_, classes)

    params = {**settings, "word_ngrams": len(word.vocabulary_),
              "char_ngrams": len(char.vocabulary_), "iterations": int(np.max(clf.n_iter_))}
    return BaselineModel("tfidf", BASELINE_NAMES["tfidf"], params, search, acc,
                         round(seconds, 2), classes, proba)


# --- mean of the pre-trained vectors + logistic regression ---------------------------------------
def mean_vectors(vectors: Vectors, tokenize: Callable[[str], list[str]],
                 texts: Sequence[str]) -> np.ndarray:
    """Each text as the mean of the vectors of its tokens that ``vectors`` holds (a token counted
    as often as it occurs); a zero row when it holds none. float64, shape ``(len(texts), dim)``.

    Only the rows of the texts' distinct words are read (a memory-mapped store stays on disk).
    """
    docs = [tokenize(t) for t in texts]
    words = list(dict.fromkeys(w for d in docs for w in d))
    rows = vectors.lookup(words) if words else np.zeros(0, np.int64)
    found = rows >= 0
    table = np.zeros((len(words) + 1, vectors.dim))  # the last row: a word the vectors lack
    if found.any():
        table[np.flatnonzero(found)] = vectors.rows(rows[found])
    local = {w: i if found[i] else len(words) for i, w in enumerate(words)}
    ids = np.fromiter((local[w] for d in docs for w in d), dtype=np.int64)
    doc_of = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
    keep = ids < len(words)
    ids = ids[keep]  # still document by document
    known = np.bincount(doc_of[keep], minlength=len(docs))
    sums = np.cumsum(np.vstack([np.zeros((1, vectors.dim)), table[ids]]), axis=0)
    ends = np.cumsum(known)
    totals = sums[ends] - sums[ends - known]
    return totals / np.maximum(known, 1)[:, None]


def _l2(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def mean_vectors_logreg(vectors: Vectors, tokenize: Callable[[str], list[str]],
                        train_texts: Sequence[str], train_y: Any, val_texts: Sequence[str],
                        val_y: Any, *, seed: int = 0, cs: Sequence[float] = MEANVEC_CS,
                        normalize: Sequence[bool] = (False, True),
                        n_classes: int | None = None) -> BaselineModel:
    """The mean of the pre-trained vectors (:func:`mean_vectors`) + logistic regression.

    Each document's mean vector is optionally L2-normalised, then standardised (the mean and
    standard deviation of the training documents), then classified by a logistic regression
    (lbfgs). Whether to normalise (``normalize``, tried in order) and ``C`` (``cs``, increasing)
    are chosen together on validation accuracy, the first best (so: unnormalised and the smaller
    ``C`` among equals); the model is fitted on the training texts only.

    Args:
        vectors: the pre-trained vectors (a :class:`~wordvecs.vectors.Vectors`).
        tokenize: the experiment's tokenizer (``str -> list[str]``), as its vocabulary uses.
        train_texts, train_y, val_texts, val_y, seed, n_classes: as in :func:`tfidf_logreg`.
        cs: the inverse regularisation strengths to try.
        normalize: the normalisation settings to try.
    """
    train_y = _check_xy(train_texts, train_y, "training texts")
    val_y = _check_xy(val_texts, val_y, "validation texts")
    if not cs or not normalize:
        raise UsageError("cs and normalize: give at least one value of each")
    classes = _classes(train_y, n_classes)
    preprocessing = _sklearn("preprocessing")
    t0 = time.perf_counter()
    raw_tr = mean_vectors(vectors, tokenize, train_texts)
    raw_va = mean_vectors(vectors, tokenize, val_texts)
    coverage = float(np.mean(np.any(raw_tr != 0, axis=1)))

    def fitter(norm: bool, c: float) -> Callable[[], tuple[Any, float]]:
        def fit() -> tuple[Any, float]:
            prep = _l2 if norm else (lambda x: x)
            scaler = preprocessing.StandardScaler().fit(prep(raw_tr))
            clf = logreg(c, seed).fit(scaler.transform(prep(raw_tr)), train_y)
            acc = float(np.mean(clf.predict(scaler.transform(prep(raw_va))) == val_y))
            return (prep, scaler, clf), acc
        return fit

    candidates = [({"normalize": bool(n), "C": float(c)}, fitter(bool(n), c))
                  for n in normalize for c in sorted(cs)]
    settings, (prep, scaler, clf), acc, search = choose(candidates)
    seconds = time.perf_counter() - t0

    def proba(texts: Sequence[str]) -> np.ndarray:
        x = scaler.transform(prep(mean_vectors(vectors, tokenize, texts)))
        return _widen(clf.predict_proba(x), clf.classes_, classes)

    params = {**settings, "dim": int(vectors.dim), "train_docs_with_vectors": coverage}
    return BaselineModel("meanvec", BASELINE_NAMES["meanvec"], params, search, acc,
                         round(seconds, 2), classes, proba)


# --- sentence embeddings + logistic regression ---------------------------------------------------
def sentence_logreg(embed: Callable[[Sequence[str]], np.ndarray], train_texts: Sequence[str],
                    train_y: Any, val_texts: Sequence[str], val_y: Any, *, seed: int = 0,
                    cs: Sequence[float] = SENTENCE_CS, n_classes: int | None = None,
                    encoder: str = "") -> BaselineModel:
    """Sentence embeddings + logistic regression, ``C`` chosen on validation: what a
    practitioner with sentence-transformers tries first.

    Args:
        embed: texts -> ``(len(texts), dim)`` sentence embeddings (an encoder's
            :meth:`~wordvecs.encoders.encoder.Encoder.embed`, or a cache of its results); the
            features are used as they come (sentence-transformers' are L2-normalised).
        train_texts, train_y, val_texts, val_y, seed, n_classes: as in :func:`tfidf_logreg`.
        cs: the inverse regularisation strengths to try (increasing; the smaller among equals).
        encoder: the encoder's name, kept in ``params``.
    """
    train_y = _check_xy(train_texts, train_y, "training texts")
    val_y = _check_xy(val_texts, val_y, "validation texts")
    if not cs:
        raise UsageError("cs: no value of C to try")
    classes = _classes(train_y, n_classes)
    t0 = time.perf_counter()
    x_tr = np.asarray(embed(list(train_texts)), dtype=np.float64)
    x_va = np.asarray(embed(list(val_texts)), dtype=np.float64)

    settings, clf, acc, search = choose_c(x_tr, train_y, x_va, val_y, cs, seed)
    seconds = time.perf_counter() - t0

    def proba(texts: Sequence[str]) -> np.ndarray:
        x = np.asarray(embed(list(texts)), dtype=np.float64)
        return _widen(clf.predict_proba(x), clf.classes_, classes)

    params = {**settings, "dim": int(x_tr.shape[1]), "encoder": encoder}
    return BaselineModel("sentvec", BASELINE_NAMES["sentvec"], params, search, acc,
                         round(seconds, 2), classes, proba)


# --- combining models ----------------------------------------------------------------------------
def _simplex(k: int) -> np.ndarray:
    """Convex weights for ``k`` models on a grid (step 1/20 for two, coarser for more), the
    single models (the vertices) included."""
    steps = 20 if k <= 2 else 10 if k == 3 else 6
    grid = [c for c in itertools.product(range(steps + 1), repeat=k) if sum(c) == steps]
    return np.asarray(grid, dtype=np.float64) / steps


def _probas(probas: Sequence[np.ndarray], what: str) -> np.ndarray:
    if not probas:
        raise UsageError(f"{what}: no models to combine")
    arrays = [np.asarray(p, dtype=np.float64) for p in probas]
    if any(a.ndim != 2 or a.shape != arrays[0].shape for a in arrays):
        raise UsageError(f"{what}: every model's probabilities must have the same shape "
                         f"(documents, classes); found {[a.shape for a in arrays]}")
    return np.stack(arrays)


_EPS = 1e-12
#: The temperatures tried for each model (1.0, the model as it is, among them).
TEMPERATURES = np.unique(np.concatenate([np.geomspace(0.05, 20.0, 80), [1.0]]))


def _tempered(p: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """``softmax(log p / t)`` over the last axis (``p ** (1 / t)``, renormalised); ``t`` may be
    an array broadcasting against ``p`` without its last axis."""
    logits = np.log(np.clip(p, _EPS, None)) / np.asarray(t)[..., None]
    logits -= logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class Stacker:
    """Several models' probabilities, each tempered, then averaged with convex weights; the
    temperatures (and, for ``weights="fitted"``, the weights) chosen on the validation split.

    Attributes:
        weights: one per model, non-negative, summing to 1.
        val_log_loss: the combination's log-loss on the validation split.
        single_log_losses: each model's own validation log-loss at its temperature.
        temperatures: one per model: its probabilities become ``p ** (1 / t)``, renormalised
            (``t < 1`` sharpens an under-confident model, ``t > 1`` softens an over-confident
            one; 1.0 leaves it as it is).
    """

    weights: tuple[float, ...]
    val_log_loss: float
    single_log_losses: tuple[float, ...]
    temperatures: tuple[float, ...] = ()

    def combine(self, probas: Sequence[np.ndarray]) -> np.ndarray:
        """The weighted mean of the models' tempered probabilities (same order as fitted)."""
        p = _probas(probas, "probabilities")
        if len(p) != len(self.weights):
            raise UsageError(f"fitted on {len(self.weights)} models, given {len(p)}")
        if self.temperatures:
            p = _tempered(p, np.asarray(self.temperatures)[:, None])
        return np.tensordot(np.asarray(self.weights), p, axes=1)


def _temperature(p: np.ndarray, y: np.ndarray) -> float:
    """The temperature of :data:`TEMPERATURES` with the least validation log-loss (the one
    nearest 1 among equals)."""
    losses = np.array([-np.mean(np.log(np.clip(_tempered(p, t)[np.arange(len(y)), y], _EPS,
                                                      None))) for t in TEMPERATURES])
    best = np.flatnonzero(losses <= losses.min() + 1e-12)
    return float(TEMPERATURES[best[np.argmin(np.abs(np.log(TEMPERATURES[best])))]])


#: How :func:`fit_stack` weighs the tempered models.
STACK_WEIGHTS = ("equal", "fitted")


def fit_stack(val_probas: Sequence[np.ndarray], val_y: Any, *, calibrate: bool = True,
              weights: str = "equal") -> Stacker:
    """Choose the :class:`Stacker`'s temperatures (and weights) on the validation split.

    With ``calibrate``, each model first gets the temperature (:data:`TEMPERATURES`) that
    minimises its own validation log-loss: a TF-IDF logistic regression is under-confident and
    a network over-confident, and untempered the sure model would outvote the accurate one (one
    number a model, fitted on that model alone: little to overfit). The combination is a linear
    pool, ``sum_i w_i * p_i`` with ``w`` on the simplex:

    - ``weights="equal"`` (the default): the plain mean, ``w_i = 1 / models``. Nothing else is
      fitted, so nothing else can overfit the few hundred validation documents, and each model
      keeps its say where it disagrees with the others.
    - ``weights="fitted"``: the point of a grid (step 1/20 for two models, coarser for more)
      with the smallest validation log-loss. On validation it is never worse than the best single
      model (each vertex is one), but the log-loss rewards the model that is surest where it is
      right: on BBC News the fitted weights (over TF-IDF and the two models of least validation
      log-loss, the stack until December 2026) went mostly to the fine-tuned encoder, lost what
      TF-IDF and the GloVe CNNs get right that it does not, and made 9.0 test errors of 444 at
      100% where the plain mean made 7.0 (three seeds; ``benchmarks/bench_stack.py``; the old
      lesson of forecast combination: weights estimated on a few hundred documents rarely beat
      equal ones out of sample). They did better where most models are weak (generated hard
      posts at 10%: 405 errors of 1,200 against 422).

    Why not a logistic regression on the concatenated log-probabilities: it learns
    ``classes x (models x classes + 1)`` numbers from a validation split of a few hundred
    documents, and overfits it. Only validation labels are seen.

    Args:
        val_probas: each model's validation probabilities, ``(documents, classes)``.
        val_y: the validation labels as column indices.
        calibrate: temper each model first (else every temperature is 1).
        weights: ``"equal"`` or ``"fitted"`` (:data:`STACK_WEIGHTS`).
    """
    p = _probas(val_probas, "val_probas")
    y = np.asarray(val_y)
    if y.shape != (p.shape[1],) or not np.issubdtype(y.dtype, np.integer) or \
            (len(y) and (y.min() < 0 or y.max() >= p.shape[2])):
        raise UsageError(f"val_y: expected {p.shape[1]} column indices below {p.shape[2]}")
    if weights not in STACK_WEIGHTS:
        raise UsageError(f"weights: expected one of {', '.join(STACK_WEIGHTS)}, not {weights!r}")
    if len(y) == 0:
        raise DataError("no validation documents to choose the weights on")
    temps = tuple(_temperature(m, y) if calibrate else 1.0 for m in p)
    if calibrate:
        p = _tempered(p, np.asarray(temps)[:, None])
    truth = p[:, np.arange(len(y)), y]  # (models, documents): each model's p(true class)
    grid = _simplex(len(p)) if weights == "fitted" else np.full((1, len(p)), 1.0 / len(p))
    losses = -np.mean(np.log(np.clip(grid @ truth, _EPS, None)), axis=1)
    best = int(np.argmin(losses))
    singles = -np.mean(np.log(np.clip(truth, _EPS, None)), axis=1)
    return Stacker(tuple(float(w) for w in grid[best]), float(losses[best]),
                   tuple(float(s) for s in singles), temps if calibrate else ())


def stack(val_probas: Sequence[np.ndarray], val_y: Any,
          test_probas: Sequence[np.ndarray]) -> np.ndarray:
    """Combined test probabilities: :func:`fit_stack` on validation, applied to the test ones.

    ``val_probas`` and ``test_probas`` list the same models in the same order; no test label is
    an argument, so none can be used.
    """
    return fit_stack(val_probas, val_y).combine(test_probas)


# --- intervals -----------------------------------------------------------------------------------
def _correct(y_true: Any, y_pred: Any) -> np.ndarray:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise UsageError(f"y_true and y_pred must be 1-D of one length; found {y_true.shape} "
                         f"and {y_pred.shape}")
    if len(y_true) == 0:
        raise DataError("no test documents to resample")
    return (y_true == y_pred).astype(np.int64)


def _resampled_counts(correct: np.ndarray, n: int, seed: int) -> np.ndarray:
    """For ``n`` resamples of the documents (with replacement, as many as there are), how many
    correct: shape ``(n, *correct.shape[:-1])``. The resamples depend on ``seed`` and the number of
    documents only, so every model scored with one seed is scored on the same resamples."""
    if n < 1:
        raise UsageError(f"n must be at least 1. Received: n={n}")
    m = correct.shape[-1]
    rng = np.random.default_rng(seed)
    chunk = max(1, (1 << 22) // m)  # at most ~4M indices (32 MB) at a time
    out = []
    for start in range(0, n, chunk):
        idx = rng.integers(0, m, size=(min(chunk, n - start), m))
        out.append(correct[..., idx].sum(axis=-1).T if correct.ndim > 1 else
                   correct[idx].sum(axis=-1))
    return np.concatenate(out, axis=0)


def _bounds(samples: np.ndarray, level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise UsageError(f"level must be in (0, 1). Received: level={level}")
    low, high = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def bootstrap_accuracies(y_true: Any, y_pred: Any, *, n: int = 1000, seed: int = 0
                         ) -> np.ndarray:
    """The accuracy on each of ``n`` bootstrap resamples of the test documents, shape ``(n,)``."""
    correct = _correct(y_true, y_pred)
    return _resampled_counts(correct, n, seed) / len(correct)


def bootstrap_interval(y_true: Any, y_pred: Any, *, n: int = 1000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """A percentile bootstrap interval for the accuracy of ``y_pred``: the documents resampled
    with replacement ``n`` times, the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of
    the resampled accuracies."""
    return _bounds(bootstrap_accuracies(y_true, y_pred, n=n, seed=seed), level)


def paired_lead(y_true: Any, pred_a: Any, pred_b: Any, *, n: int = 1000, seed: int = 0,
                level: float = 0.95) -> tuple[float, float, float]:
    """How much more accurate ``pred_a`` is than ``pred_b``, and a percentile bootstrap interval
    of that difference, both scored on the same resamples (paired: the documents both get right
    or both get wrong add no noise). Returns ``(lead, low, high)``."""
    a, b = _correct(y_true, pred_a), _correct(y_true, pred_b)
    if a.shape != b.shape:
        raise UsageError(f"pred_a and pred_b differ in length: {len(a)} and {len(b)}")
    counts = _resampled_counts(np.stack([a, b]), n, seed)
    diffs = (counts[:, 0] - counts[:, 1]) / len(a)
    lead = (int(a.sum()) - int(b.sum())) / len(a)
    return (lead, *_bounds(diffs, level))


@dataclass
class ModeResult:
    """A model's predictions on the test split, for :func:`verdict`.

    Attributes:
        name: how the sentence names it (``"fine-tuned"``, ``"TF-IDF + logistic regression"``).
        y_true: the test labels (the same for every result compared).
        y_pred: its predictions.
        baseline: whether it is a baseline (the embedding modes are not).
    """

    name: str
    y_true: np.ndarray
    y_pred: np.ndarray
    baseline: bool = False

    @property
    def accuracy(self) -> float:
        return float(np.mean(np.asarray(self.y_true) == np.asarray(self.y_pred)))


def _signed(x: float) -> str:
    return f"{round(x, 3) or 0.0:+.3f}"  # never "-0.000"


def verdict(results: Sequence[ModeResult], *, n: int = 1000, seed: int = 0,
            level: float = 0.95) -> str:
    """One sentence: which model has the best test accuracy (with its interval), and whether its
    lead over the best baseline is larger than the noise, i.e. whether the paired bootstrap
    interval of the lead (:func:`paired_lead`) lies above zero.

    When a baseline wins, the lead is the one over the best non-baseline model. Ties go to the
    first listed. With no model of the other kind, the sentence only names the winner.
    """
    if not results:
        raise UsageError("no results to compare")
    first = np.asarray(results[0].y_true)
    for r in results[1:]:
        if not np.array_equal(np.asarray(r.y_true), first):
            raise UsageError(f"{r.name!r} was scored on other test labels than "
                             f"{results[0].name!r}")
    pct = f"{level:.0%}"
    winner = max(results, key=lambda r: r.accuracy)  # max keeps the first of equals
    low, high = bootstrap_interval(first, winner.y_pred, n=n, seed=seed, level=level)
    head = (f"{winner.name}{' (a baseline)' if winner.baseline else ''} wins "
            f"({winner.accuracy:.3f} [{low:.3f}, {high:.3f}])")
    others = [r for r in results if r.baseline != winner.baseline]
    if not others:
        kind = "embedding model" if winner.baseline else "baseline"
        return f"{head}; there is no {kind} to compare it with."
    rival = max(others, key=lambda r: r.accuracy)
    lead, lo, hi = paired_lead(first, winner.y_pred, rival.y_pred, n=n, seed=seed, level=level)
    over = rival.name if not winner.baseline else f"the best embedding model, {rival.name}"
    noise = "larger than the interval's noise" if lo > 0 else "within the noise"
    return (f"{head}; its lead over {over} ({_signed(lead)}, {pct} interval {_signed(lo)} to "
            f"{_signed(hi)}) is {noise}.")
