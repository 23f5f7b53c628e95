"""The transfer-learning experiment: one architecture, the embedding frozen, fine-tuned or scratch.

:func:`run_experiment` splits a labelled data set (stratified, from a seed), and for each training
fraction builds the vocabulary of that training subset and its embedding matrix, then trains the
same model with each embedding mode, early-stopped on the validation split, and scores it on the
test split. :func:`wordvecs.training.report.write_report` turns the result into ``report.md``,
``report.json`` and PNG plots; the best model (by validation accuracy, at the largest fraction) is
saved as a :class:`Classifier` that needs no vector file to predict.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from wordvecs._atomic import check_destination as atomic_check
from wordvecs.errors import DataError, UsageError, WordvecsError
from wordvecs.keras import HEADS, check_matrix_fits, embedding_layer, head_layers, weight_bytes
from wordvecs.keras import keras_module as _keras
from wordvecs.metrics import macro_f1
from wordvecs.progress import Progress, progress_enabled
from wordvecs.text.datasets import (
    TextData,
    Tokenizer,
    Vocabulary,
    default_max_len,
    stratified_split,
    stratified_subsample,
    validate_dataset,
)
from wordvecs.training.baselines import BASELINE_NAMES, ModeResult, bootstrap_interval, verdict
from wordvecs.training.classifier import CLASSIFIER_FILES, SUBWORDS_DIR, Classifier, load_classifier
from wordvecs.training.report import REPORT_FILES
from wordvecs.vectors import Vectors

__all__ = [
    "BASELINE_MODES",
    "MODELS",
    "MODES",
    "MODE_NAMES",
    "RUN_FILES",
    "Classifier",
    "Experiment",
    "RunResult",
    "TrainConfig",
    "build_model",
    "check_out",
    "check_split",
    "load_classifier",
    "run_experiment",
    "split_with_test",
]

log = logging.getLogger(__name__)

#: Every mode (``TrainConfig(modes="all")`` / ``--modes all``): the word-vector embedding
#: ``frozen``, ``finetune`` and ``scratch``; the transformer ``contextual`` (frozen encoder, a
#: head on its states) and ``contextual-finetune`` (its top blocks trained too); ``stack`` (the
#: TF-IDF baseline and every other model, each tempered on validation, averaged).
MODES = ("frozen", "finetune", "scratch", "contextual", "contextual-finetune", "stack")
#: The modes trained unless others are asked: those that fit a few minutes on a CPU and need
#: nothing beyond the ``keras`` extra (the encoder modes need the ``bert`` extra and a model).
DEFAULT_MODES = ("frozen", "finetune", "scratch", "stack")
#: The modes that run a transformer (``TrainConfig.encoder``) rather than word vectors.
ENCODER_MODES = ("contextual", "contextual-finetune")
#: The baselines' modes (fitted with every experiment unless ``TrainConfig.baselines`` is off).
BASELINE_MODES = tuple(BASELINE_NAMES)
#: How a report's sentences name each mode.
MODE_NAMES = {"frozen": "frozen", "finetune": "fine-tuned", "scratch": "from scratch",
              "contextual": "contextual (frozen encoder)",
              "contextual-finetune": "contextual (encoder fine-tuned)",
              "stack": "stack (TF-IDF + every model)", **BASELINE_NAMES}
#: The values of C the TF-IDF baseline tries on validation (see docs/training.md for the time).
TFIDF_CS: tuple[float, ...] = (1.0, 10.0, 100.0)
#: The model heads after the embedding (one list with the contextual mode's: wordvecs.keras.HEADS).
MODELS = HEADS
#: Every file a run writes into its folder: the report's and the saved classifier's.
RUN_FILES = (*REPORT_FILES, *CLASSIFIER_FILES, SUBWORDS_DIR)


@dataclass
class TrainConfig:
    """Settings of an experiment (the defaults are those of ``wordvecs train``)."""

    #: The modes to train, in order (:data:`MODES`); ``"all"`` (or ``("all",)``): every mode.
    modes: tuple[str, ...] = DEFAULT_MODES
    model: str = "cnn"
    epochs: int = 20
    max_tokens: int = 20_000
    max_len: int | None = None
    fractions: tuple[float, ...] = (1.0,)
    seed: int = 0
    batch_size: int = 32
    patience: int = 3
    learning_rate: float = 1e-3
    val: float = 0.1
    test: float = 0.2
    tokenizer: str = "standard"
    #: The fractions the ``contextual`` mode trains at (``None``: every fraction).
    contextual_fractions: tuple[float, ...] | None = None
    #: The transformer of the ``contextual`` mode: ``"minilm"`` or a model folder.
    encoder: str = "minilm"
    #: WordPiece tokens a document keeps in the encoder modes ([CLS], [SEP] included); ``None``:
    #: the encoder's own length (``max_seq_length``: 256 for MiniLM), as the ``sentvec`` baseline.
    contextual_max_len: int | None = None
    #: The encoder modes read a document longer than ``contextual_max_len`` tokens in up to this
    #: many windows of that length, each encoded on its own, the head on all their states
    #: (:mod:`wordvecs.encoders.contextual`); 1 cuts it at ``contextual_max_len``. Texts of one
    #: window (short texts) are read the same either way; each window costs one encoding.
    contextual_windows: int = 2
    #: Also fit the baselines (:mod:`wordvecs.training.baselines`: TF-IDF and the mean of the
    #: pre-trained vectors, each + logistic regression) at every fraction, on the same split.
    baselines: bool = True
    #: With the baselines, also the sentence-embedding one (``sentvec``: ``encoder``'s sentence
    #: embeddings + logistic regression), where the encoder is installed.
    sentence_baseline: bool = True
    #: The unseen-word chain's steps for the task matrix (``build_matrix(fallback=)``): ``None``
    #: every step (``wordvecs.resolve.STEPS``), ``()`` none (exact matches only).
    fallback: tuple[str, ...] | None = None
    #: ``contextual-finetune``: how many of the encoder's top blocks are trained (the lower
    #: ones stay frozen and run once per document); the encoder's depth trains every block.
    encoder_layers: int = 2
    #: ``contextual-finetune``: its most epochs (the learning rate decays to 0 over them);
    #: ``epochs`` when smaller.
    encoder_epochs: int = 4
    #: ``contextual-finetune``: its head. ``"probe"`` (a sentence-transformer's mean pooling and
    #: softmax, started from a logistic regression on the frozen sentence embeddings), or one of
    #: the word-vector modes' heads (``model``'s choices), started from random weights.
    encoder_head: str = "probe"

    def __post_init__(self) -> None:
        if isinstance(self.modes, str):
            self.modes = tuple(m.strip() for m in self.modes.split(",") if m.strip())
        if "all" in self.modes:  # every mode, in MODES' order
            self.modes = MODES
        self.modes = tuple(self.modes)

    def _check_encoder(self) -> None:
        """The encoder modes' settings (:meth:`check`)."""
        if self.encoder_epochs < 1:
            raise UsageError(f"encoder_epochs must be at least 1. Received: "
                             f"{self.encoder_epochs}")
        if self.encoder_head not in (*HEADS, "probe"):
            raise UsageError(f"encoder_head must be one of {', '.join((*HEADS, 'probe'))}. "
                             f"Received: {self.encoder_head!r}")
        if self.contextual_max_len is not None and self.contextual_max_len < 3:
            raise UsageError("contextual_max_len must be at least 3 ([CLS], a token, [SEP]). "
                             f"Received: contextual_max_len={self.contextual_max_len}")
        if type(self.contextual_windows) is not int or self.contextual_windows < 1:
            raise UsageError("contextual_windows must be a positive integer. Received: "
                             f"contextual_windows={self.contextual_windows!r}")
        if self.encoder_layers < 1:
            raise UsageError(f"encoder_layers must be at least 1. Received: "
                             f"{self.encoder_layers}")

    def check(self) -> None:
        """Raise ValueError for a setting that cannot work, naming it."""
        _check_modes(self.modes)
        if self.model not in MODELS:
            raise UsageError(f"unknown model {self.model!r}; expected one of {', '.join(MODELS)}")
        for f in self.fractions:
            if not 0 < f <= 1:
                raise UsageError(f"training fraction must be in (0, 1]. Received: {f}")
        for f in self.contextual_fractions or ():
            if f not in self.fractions:
                raise UsageError(f"contextual fraction {f} is not one of the fractions "
                                 f"{', '.join(map(str, self.fractions))}")
        if self.epochs < 1:
            raise UsageError(f"epochs must be at least 1. Received: epochs={self.epochs}")
        if self.max_len is not None and self.max_len < 1:
            raise UsageError(f"max_len must be at least 1. Received: max_len={self.max_len}")
        self._check_encoder()
        if self.max_tokens < 3:
            raise UsageError(f"max_tokens must be at least 3. Received: {self.max_tokens}")
        Tokenizer(mode=self.tokenizer)  # an unknown mode raises ValueError, naming the modes
        from wordvecs.resolve import STEPS

        for step in self.fallback or ():
            if step not in STEPS:
                raise UsageError(f"unknown fallback step {step!r}; expected some of "
                                 f"{', '.join(STEPS)}, or none")


def check_encoder_length(config: TrainConfig, *, name: str = "contextual_max_len") -> None:
    """:class:`UsageError` when the encoder modes are asked for with a ``contextual_max_len``
    longer than the encoder reads (its ``max_position_embeddings``), naming the setting as
    ``name`` (the CLI: its option): before any training, not when the encoder is first loaded.
    An encoder that cannot be found or read is left to that load (which explains it)."""
    n = config.contextual_max_len
    if n is None or not set(config.modes) & set(ENCODER_MODES):
        return
    try:
        from wordvecs.encoders.bert import BertConfig
        from wordvecs.encoders.files import find_model

        files = find_model(config.encoder)
        limit = BertConfig.from_files(files).max_position_embeddings
    except (ImportError, WordvecsError):
        return
    if n > limit:
        raise UsageError(f"{name} {n}: {files.name} reads at most {limit} tokens a window "
                         "(its max_position_embeddings)")


def _check_modes(modes: Sequence[str]) -> None:
    for m in modes:
        if m not in MODES:
            raise UsageError(f"unknown mode {m!r}; expected one of {', '.join(MODES)}, or all")
    if not modes:
        raise UsageError("no modes to train")
    if set(modes) == {"stack"}:
        raise UsageError("the stack combines TF-IDF with the other modes' models: name at "
                         "least one more mode (e.g. frozen,finetune,stack)")


@dataclass
class RunResult:
    """One trained model: a mode at a training fraction, and its scores."""

    mode: str
    fraction: float
    train_size: int
    test_accuracy: float
    macro_f1: float
    val_accuracy: float
    epochs: int
    best_epoch: int
    train_seconds: float
    trainable_params: int
    frozen_params: int
    history: dict[str, list[float]] = field(default_factory=dict)
    #: The vectors (or, for ``contextual``, the encoder) the run used.
    vectors: str = ""
    #: Seconds spent turning text into the model's input before training: the contextual
    #: encoder's pass over the documents, or distilling the fraction's vocabulary; ``None``
    #: where vectors were only read.
    encode_seconds: float | None = None
    #: Bytes of the model's weights (trainable and frozen, as stored: float32).
    weight_bytes: int | None = None
    #: ``contextual``: WordPiece tokens a document is truncated to ([CLS], [SEP] included).
    max_len: int | None = None
    #: ``contextual``: documents of each split cut at ``max_len`` (read in windows: after the
    #: last window).
    truncated: dict[str, int] | None = None
    #: ``contextual``: the most windows of ``max_len`` tokens a document was read in.
    windows: int | None = None
    #: A 95% percentile bootstrap interval of ``test_accuracy`` (the test documents resampled,
    #: the experiment's seed: every run of an experiment is scored on the same resamples).
    test_interval: list[float] | None = None
    #: A baseline's settings chosen on validation (``C``...) and the validation search.
    params: dict[str, Any] | None = None

    @property
    def baseline(self) -> bool:
        """Whether the run is a baseline (``tfidf``, ``meanvec``) rather than a Keras model."""
        return self.mode in BASELINE_MODES


@dataclass
class Experiment:
    """Everything a report needs."""

    config: TrainConfig
    dataset: dict[str, Any]
    vectors: dict[str, Any]
    coverage: dict[str, Any]
    coverage_summary: str
    memory: dict[str, Any]
    runs: list[RunResult]
    best: dict[str, Any]
    backend: str
    total_seconds: float
    #: One sentence (:func:`wordvecs.training.baselines.verdict`): the best run by test accuracy
    #: at the largest fraction, and whether its lead over the best baseline is beyond the noise.
    verdict: str = ""
    #: Lines for the report's notes (a baseline skipped, and why).
    remarks: list[str] = field(default_factory=list)
    #: Each run's test predictions (class indices), keyed ``(mode, fraction)``; not in the JSON.
    predictions: dict[tuple[str, float], np.ndarray] = field(default_factory=dict, repr=False)
    #: Each run's class probabilities on the validation and the test split, keyed as
    #: ``predictions`` (the TF-IDF model's too when a stack used it unreported); not in the JSON.
    probabilities: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(replace(self, predictions={}, probabilities={}))
        d.pop("predictions")
        d.pop("probabilities")
        d["config"]["modes"] = list(self.config.modes)
        d["config"]["fractions"] = list(self.config.fractions)
        return d

    def run(self, mode: str, fraction: float) -> RunResult | None:
        for r in self.runs:
            if r.mode == mode and r.fraction == fraction:
                return r
        return None


# --- the model -----------------------------------------------------------------------------------
def build_model(kind: str, *, max_len: int, n_classes: int, rows: int, dim: int,
                mode: str, matrix: np.ndarray | None = None, learning_rate: float = 1e-3,
                plan: Any = None) -> Any:
    """A compiled Keras classifier: Embedding -> ``kind`` (avg, cnn, bilstm) -> softmax.

    ``mode``: ``"frozen"`` / ``"finetune"`` start the Embedding from ``matrix``; ``"scratch"``
    starts it at random. Only ``"frozen"`` leaves it untrainable. ``plan``: a
    :class:`wordvecs.training.distribute.Plan` to build the model under (its table sharded, padded).
    """
    keras = _keras()

    if plan is not None and keras.distribution.distribution() is not plan.distribution:
        with plan.scope():  # built, compiled and trained inside the distribution (keras#22256)
            return build_model(kind, max_len=max_len, n_classes=n_classes, rows=rows, dim=dim,
                               mode=mode, matrix=matrix, learning_rate=learning_rate, plan=plan)
    mask = kind in ("avg", "bilstm")  # Conv1D does not take a mask; zero rows do the work there
    if plan is not None:
        emb = plan.model_embedding(mode, matrix, rows, dim, mask_zero=mask)
    elif mode == "scratch":
        emb = keras.layers.Embedding(rows, dim, mask_zero=mask, name="embedding")
    else:
        if matrix is None:
            raise UsageError(f"mode {mode!r} needs a pre-trained matrix")
        check_matrix_fits(matrix, vocab_size=rows, model_dim=dim)
        emb = embedding_layer(matrix, trainable=mode == "finetune", mask_zero=mask,
                              name="embedding")
    inputs = keras.Input(shape=(max_len,), dtype="int32", name="tokens")
    outputs = head_layers(keras, kind, emb(inputs), n_classes)
    model = keras.Model(inputs, outputs, name=f"{kind}_{mode}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _param_counts(model: Any) -> tuple[int, int]:
    def count(weights: Sequence[Any]) -> int:
        return int(sum(int(np.prod(w.shape)) for w in weights))

    return count(model.trainable_weights), count(model.non_trainable_weights)


def _seed_everything(seed: int) -> None:
    keras = _keras()
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.experimental.enable_op_determinism()
        except Exception:  # pragma: no cover - very old TensorFlow
            log.debug("op determinism unavailable")


# --- the experiment ------------------------------------------------------------------------------
ProgressFn = Callable[[str], None]


def check_out(out: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Raise :class:`DataError` when ``out`` holds an earlier run's files and not ``overwrite``.

    Only the files a run writes (:data:`RUN_FILES`) count, and only those are ever replaced:
    anything else in the folder is left alone. One of those names that a run may never replace
    (a symbolic link, a folder of the user's) is a :class:`~wordvecs.errors.WriteError` here,
    before any training, with ``overwrite`` too.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    taken = [n for n in RUN_FILES if (out / n).exists() or (out / n).is_symlink()]
    if taken and not overwrite:
        raise DataError(f"{out}: holds an earlier run ({', '.join(taken)}); give --force "
                        "(overwrite=True) to replace it, or another --out")
    for name in REPORT_FILES:
        atomic_check(out / name, folder=False, overwrite=True)
    Classifier.check_destination(out, overwrite=True)


def check_split(data: TextData, config: TrainConfig | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check ``data`` and return its stratified train / validation / test indices.

    Cheap (no vectors, no Keras): the CLI calls it before loading anything big, so too few rows
    are reported at once.
    """
    config = config or TrainConfig()
    config.check()
    validate_dataset(data)
    train_idx, val_idx, test_idx = stratified_split(data.labels, config.seed, config.val,
                                                    config.test)
    if len(val_idx) == 0 or len(test_idx) == 0:
        raise DataError(f"{data.source}: {len(data)} rows are too few for a validation and a "
                        f"test split ({config.val:.0%} and {config.test:.0%} of each class); "
                        "give more rows")
    return train_idx, val_idx, test_idx


def split_with_test(data: TextData, test_data: TextData, config: TrainConfig | None = None
                    ) -> tuple[TextData, np.ndarray, np.ndarray, np.ndarray]:
    """``data`` split into train / validation only (stratified, ``config.val``), ``test_data``
    as the test part: ``(both together, train, validation, test indices)``. A test label that
    training never sees is a :class:`DataError` naming its row; nothing of ``test_data`` is
    used before the test."""
    config = config or TrainConfig()
    config.check()
    validate_dataset(data)
    if len(test_data.texts) == 0 or len(test_data.texts) != len(test_data.labels):
        raise DataError(f"{test_data.source}: no rows to test on")
    known = set(data.labels)
    for n, (text, y) in enumerate(zip(test_data.texts, test_data.labels), start=1):
        if y not in known:
            raise DataError(f"{test_data.source}, row {n}: label {y!r} never appears in "
                            f"{data.source}; the classes are {', '.join(sorted(known))}")
        if not text.strip():
            raise DataError(f"{test_data.source}, row {n}: empty text")
    train_idx, val_idx, _ = stratified_split(data.labels, config.seed, config.val, 0.0)
    if len(val_idx) == 0:
        raise DataError(f"{data.source}: {len(data)} rows are too few for a validation split "
                        f"({config.val:.0%} of each class); give more rows")
    both = TextData([*data.texts, *test_data.texts], [*data.labels, *test_data.labels],
                    data.format, data.source)
    test_idx = np.arange(len(data), len(both))
    return both, train_idx, val_idx, test_idx


def _split(data: TextData, config: TrainConfig, test_data: TextData | None
           ) -> tuple[TextData, np.ndarray, np.ndarray, np.ndarray]:
    """The experiment's data and its train / validation / test indices."""
    if test_data is None:
        return (data, *check_split(data, config))
    return split_with_test(data, test_data, config)


def run_line(run: RunResult) -> str:
    """The console's line for a run (its time rounded as the report rounds it)."""
    from wordvecs.training.report import format_seconds

    params = run.params or {}
    if run.mode == "stack":
        parts, weights = params.get("components", ()), params.get("weights", ())
        how = ("the mean of " + ", ".join(parts) if len(set(weights)) == 1
               else "weights " + " ".join(f"{m} {w:g}" for m, w in zip(parts, weights)))
    elif run.baseline:
        how = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                        for k, v in params.items() if k in ("C", "normalize"))
    else:
        how = f"{run.epochs} epochs"
    return (f"{run.mode:<10} {run.fraction:>5.0%} of train ({run.train_size:,} docs): test "
            f"accuracy {run.test_accuracy:.3f}, macro-F1 {run.macro_f1:.3f}, {how}, "
            f"{format_seconds(run.train_seconds)} s")


def run_experiment(data: TextData, vectors: Vectors, config: TrainConfig | None = None, *,
                   out: str | os.PathLike[str] | None = None, progress: bool | None = None,
                   on_event: ProgressFn | None = None, overwrite: bool = False,
                   plan: Any = None, test_data: TextData | None = None) -> Experiment:
    """Train every mode at every fraction; save the best model to ``out`` (when given).

    Args:
        data: texts and labels (checked: rows, at least two classes, no empty text).
        vectors: the pre-trained vectors (only the rows of the vocabulary are read).
        config: the settings; :class:`TrainConfig` defaults when ``None``.
        out: a folder for the best :class:`Classifier` (the report is written separately by
            :func:`wordvecs.training.report.write_report`).
        progress: a progress bar over the runs, updated each epoch; ``None``: only when
            standard error is a terminal (off a terminal, ``on_event``'s lines are the progress).
        on_event: called with a line of text after each run (the CLI prints it).
        overwrite: replace a classifier already saved in ``out``.
        plan: a :class:`wordvecs.training.distribute.Plan` (JAX backend): train every model
            under it; in a multi-process run only process 0 saves.
        test_data: a held-out set of the user's own to score instead of the split's test part
            (``data`` is then split into train and validation only).
    """
    from wordvecs.matrix import build_matrix

    config = config or TrainConfig()
    check_encoder_length(config)
    test_source = None if test_data is None else test_data.source
    data, train_idx, val_idx, test_idx = _split(data, config, test_data)
    if out is not None:  # before any training: a refused save must not cost the runs
        Classifier.check_destination(out, overwrite=overwrite)
    keras = _keras()
    t_start = time.perf_counter()
    classes = data.classes
    label_index = {c: i for i, c in enumerate(classes)}
    y_all = np.array([label_index[y] for y in data.labels], dtype=np.int32)
    fractions = sorted(set(config.fractions))
    tokenizer = Tokenizer(mode=config.tokenizer)
    full_vocab = Vocabulary.from_texts([data.texts[i] for i in train_idx], config.max_tokens,
                                       tokenizer=tokenizer)
    lengths = [len(full_vocab.tokenizer(data.texts[i])) for i in train_idx]
    max_len = config.max_len or default_max_len(lengths)

    remarks: list[str] = []
    with_baselines = _baselines_available(config, remarks)
    stacking = "stack" in config.modes and _sklearn_installed(remarks, "stack")
    sentences = (_SentenceCache.open(config.encoder, remarks)
                 if with_baselines and config.sentence_baseline else None)
    n_baselines = (len(BASELINE_MODES) - (sentences is None)) if with_baselines else 0
    bar = Progress(len(fractions) * (len(config.modes) + n_baselines), "training", unit="run",
                   enabled=progress_enabled(progress))
    runs: list[RunResult] = []
    predictions: dict[tuple[str, float], np.ndarray] = {}
    probas: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]] = {}  # (validation, test)
    not_fitted: dict[tuple[str, str], list[float]] = {}  # (baseline, why) -> fractions
    best: tuple[float, RunResult, Any, Vocabulary, np.ndarray] | None = None
    coverage: dict[str, Any] = {}
    coverage_summary = ""
    rows = dim = 0
    encoder_caches: dict[str, Any] = {}  # a StateCache a mode, for every fraction: each text
    # encoded once
    try:
        for fraction in fractions:
            sub = stratified_subsample(data.labels, train_idx, fraction, config.seed)
            vocab = (full_vocab if fraction == 1.0 else
                     Vocabulary.from_texts([data.texts[i] for i in sub], config.max_tokens,
                                           tokenizer=tokenizer))
            distilled = hasattr(vectors, "for_vocab")  # a Distiller: every word, timed
            before = getattr(vectors, "seconds", 0.0)
            source = (vectors.for_vocab(vocab.words, vocab.word_counts())  # type: ignore
                      if distilled else vectors)
            distill_seconds = round(getattr(vectors, "seconds", 0.0) - before, 2)
            em = build_matrix(source, vocab.token_list(), counts=vocab.word_counts(),
                              seed=config.seed, fallback=None if config.fallback is None
                              else list(config.fallback))
            rows, dim = em.rows, em.dim
            if fraction == fractions[-1]:
                coverage, coverage_summary = em.to_dict(), em.summary()
            x_tr = vocab.encode([data.texts[i] for i in sub], max_len)
            x_va = vocab.encode([data.texts[i] for i in val_idx], max_len)
            x_te = vocab.encode([data.texts[i] for i in test_idx], max_len)
            y_tr, y_va, y_te = y_all[sub], y_all[val_idx], y_all[test_idx]
            parts: list[RunResult] = []  # the baselines at this fraction, reported or not
            record = partial(_record, runs, predictions, probas, on_event)

            for mode in config.modes:
                if mode == "stack":  # after the baselines: it combines their probabilities
                    continue
                bar.set_description(f"{mode} @ {fraction:g}")
                _seed_everything(config.seed)
                if mode in ENCODER_MODES:  # the transformer: wordvecs.encoders.contextual
                    if (config.contextual_fractions is None
                            or fraction in config.contextual_fractions):
                        record(*_contextual_run(mode, data, sub, val_idx, test_idx, y_all,
                                                len(classes), config, fraction, encoder_caches),
                               log_it=False)
                    bar.update(1)
                    continue
                run, model, p_va, p_te = _keras_run(
                    mode, config, em, max_len, len(classes), (x_tr, x_va, x_te),
                    (y_tr, y_va, y_te), fraction=fraction, plan=plan, bar=bar,
                    vectors=vectors.source or "",
                    encode_seconds=distill_seconds if distilled and mode != "scratch" else None)
                record(run, p_va, p_te)
                if fraction == fractions[-1] and (best is None or run.val_accuracy > best[0]):
                    best = (run.val_accuracy, run, model, vocab, np.bincount(
                        y_tr, minlength=len(classes)) / len(y_tr))
                bar.update(1)
            if with_baselines or stacking:
                bar.set_description(f"baselines @ {fraction:g}")
                for run, p_va, p_te in _baseline_runs(
                        data, (sub, val_idx, test_idx), y_all, len(classes), config, fraction,
                        source, vectors.source or "", vocab.tokenizer, not_fitted,
                        sentences=sentences, only=None if with_baselines else ("tfidf",)):
                    parts.append(run)
                    record(run, p_va, p_te, report=with_baselines)
                bar.update(n_baselines)
            if stacking:
                bar.set_description(f"stack @ {fraction:g}")
                parts += [r for r in runs if r.fraction == fraction and not r.baseline
                          and r.mode != "stack"]
                stacked = _stack_run(parts, probas, y_va, y_te, len(classes), config.seed,
                                     not_fitted)
                if stacked is not None:
                    record(*stacked)
                bar.update(1)
    finally:
        bar.close()

    best_info = _save_best(best, out, vectors, config, classes, max_len, plan=plan,
                           overwrite=overwrite)
    if best is None:
        remarks.append("- no model saved: only the word-vector modes (frozen, finetune, "
                       "scratch) are saved as a classifier, and none ran")

    n_train = len(train_idx)
    memory = _memory(n_train, max_len, rows, dim)
    remarks += [f"- {mode}: not fitted at {', '.join(f'{f:.0%}' for f in at)} ({why})"
                for (mode, why), at in not_fitted.items()]
    return Experiment(
        config=config,
        dataset={"source": data.source, "format": data.format, "documents": len(data),
                 "classes": classes, "train": n_train, "validation": len(val_idx),
                 "test": len(test_idx), "test_source": test_source, "max_len": max_len,
                 "max_len_from": "given" if config.max_len else "95th percentile of lengths"},
        vectors={"source": vectors.source, "words": len(vectors), "dim": vectors.dim},
        coverage=coverage, coverage_summary=coverage_summary, memory=memory, runs=runs,
        best=best_info, backend=keras.backend.backend(),
        total_seconds=round(time.perf_counter() - t_start, 1),
        verdict=_verdict(runs, predictions, y_all[test_idx], fractions[-1], config.seed),
        remarks=remarks, predictions=predictions, probabilities=probas)


def _record(runs: list[RunResult], predictions: dict[tuple[str, float], np.ndarray],
            probas: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]],
            on_event: ProgressFn | None, run: RunResult, p_va: np.ndarray, p_te: np.ndarray, *,
            report: bool = True, log_it: bool = True) -> None:
    """Keep a run's probabilities (for the stack); when ``report``, add it to ``runs`` and
    ``predictions`` and announce it."""
    probas[(run.mode, run.fraction)] = (p_va, p_te)
    if report:
        runs.append(run)
        predictions[(run.mode, run.fraction)] = np.argmax(p_te, axis=1)
        _announce(run, on_event, log_it=log_it)


def _memory(n_train: int, max_len: int, rows: int, dim: int) -> dict[str, Any]:
    """The training input's bytes one-hot and embedded (the report's memory section)."""
    one_hot = n_train * max_len * rows * 4
    dense = n_train * max_len * dim * 4
    return {"documents": n_train, "max_len": max_len, "vocabulary_rows": rows, "dim": dim,
            "one_hot_bytes": one_hot, "embedded_bytes": dense, "matrix_bytes": rows * dim * 4,
            "ratio": one_hot / dense if dense else None}


def _save_best(best: tuple[float, RunResult, Any, Vocabulary, np.ndarray] | None,
               out: str | os.PathLike[str] | None, vectors: Vectors, config: TrainConfig,
               classes: list[str], max_len: int, *, plan: Any, overwrite: bool
               ) -> dict[str, Any]:
    """The best word-vector model (by validation accuracy at the largest fraction) saved as a
    :class:`Classifier` in ``out`` (when given); what the report says of it (``{}``: none)."""
    if best is None:
        return {}
    _, best_run, best_model, best_vocab, prior = best
    best_info: dict[str, Any] = {"mode": best_run.mode, "fraction": best_run.fraction,
                                 "val_accuracy": best_run.val_accuracy,
                                 "test_accuracy": best_run.test_accuracy}
    if out is None:
        return best_info
    fallback = None
    if vectors.subwords is not None:  # unseen words at prediction get subword vectors
        from wordvecs.training.subword_predict import SubwordFallback

        fallback = SubwordFallback.from_vectors(vectors.subwords,  # type: ignore[arg-type]
                                                best_vocab.words)
    if plan is not None:  # one device, the table's padding cut off (a collective)
        best_model = plan.undistributed(best_model, rows=len(best_vocab))
    clf = Classifier(best_model, best_vocab, classes, max_len,
                     info={"model": config.model, "mode": best_run.mode,
                           "vectors": vectors.source, "seed": config.seed}, prior=prior,
                     subwords=fallback)
    if plan is None or plan.is_chief:
        clf.save(out, overwrite=overwrite)
    best_info["path"] = str(Path(out))
    return best_info


def _keras_run(mode: str, config: TrainConfig, em: Any, max_len: int, n_classes: int,
               xs: tuple[np.ndarray, np.ndarray, np.ndarray],
               ys: tuple[np.ndarray, np.ndarray, np.ndarray], *, fraction: float, plan: Any,
               bar: Any, vectors: str, encode_seconds: float | None
               ) -> tuple[RunResult, Any, np.ndarray, np.ndarray]:
    """A word-vector mode at one fraction: the run, the trained model, and its validation and
    test probabilities."""
    keras = _keras()
    (x_tr, x_va, x_te), (y_tr, y_va, y_te) = xs, ys
    model = build_model(config.model, max_len=max_len, n_classes=n_classes, rows=em.rows,
                        dim=em.dim, mode=mode, matrix=em.matrix,
                        learning_rate=config.learning_rate, plan=plan)
    callbacks: list[Any] = [keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience, restore_best_weights=True)]
    if bar.active:
        callbacks.append(_BarCallback(bar))
    t0 = time.perf_counter()
    fit = model.fit if plan is None else partial(plan.fit, model)
    hist = fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=config.epochs,
               batch_size=config.batch_size, shuffle=True, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - t0
    history = {k: [float(v) for v in vs] for k, vs in hist.history.items()}
    predict = (partial(model.predict, batch_size=256, verbose=0) if plan is None
               else partial(plan.predict, model))
    p_te, p_va = np.asarray(predict(x_te)), np.asarray(predict(x_va))
    pred_te, pred_va = np.argmax(p_te, axis=1), np.argmax(p_va, axis=1)
    trainable, frozen = _param_counts(model)
    run = RunResult(
        mode=mode, fraction=fraction, train_size=len(y_tr),
        test_accuracy=float(np.mean(pred_te == y_te)),
        macro_f1=macro_f1(y_te, pred_te, n_classes),
        val_accuracy=float(np.mean(pred_va == y_va)),
        epochs=len(history["loss"]), best_epoch=int(np.argmin(history["val_loss"])) + 1,
        train_seconds=round(seconds, 1), trainable_params=trainable, frozen_params=frozen,
        history=history, vectors=vectors, encode_seconds=encode_seconds,
        weight_bytes=weight_bytes(model),
        test_interval=list(bootstrap_interval(y_te, pred_te, seed=config.seed)))
    return run, model, p_va, p_te


def _contextual_run(mode: str, data: TextData, sub: np.ndarray, val_idx: np.ndarray,
                    test_idx: np.ndarray, y_all: np.ndarray, n_classes: int, config: TrainConfig,
                    fraction: float, caches: dict[str, Any]
                    ) -> tuple[RunResult, np.ndarray, np.ndarray]:
    """An encoder mode at one fraction (not a candidate for the saved Classifier): the run, its
    validation and its test probabilities."""
    from wordvecs.encoders import contextual as ctx

    texts = lambda idx: [data.texts[i] for i in idx]  # noqa: E731
    common: dict[str, Any] = {
        "n_classes": n_classes, "head": config.model, "epochs": config.epochs,
        "seed": config.seed, "max_len": config.contextual_max_len,
        "batch_size": config.batch_size, "patience": config.patience, "fraction": fraction}
    if mode == "contextual":
        if mode not in caches:
            caches[mode] = ctx.StateCache(config.encoder, max_len=config.contextual_max_len,
                                          windows=config.contextual_windows)
        res = ctx.train_contextual(texts(sub), y_all[sub], texts(val_idx), y_all[val_idx],
                                   texts(test_idx), y_all[test_idx], cache=caches[mode],
                                   learning_rate=config.learning_rate, **common)
    else:  # the top blocks trained: the lower ones' output is cached
        if mode not in caches:
            from wordvecs.encoders.encoder import load_encoder

            enc = load_encoder(config.encoder, max_length=config.contextual_max_len)
            depth = enc.config.num_hidden_layers
            if config.encoder_layers > depth:
                raise UsageError(f"encoder_layers={config.encoder_layers}: {enc.name} has "
                                 f"{depth} blocks")
            caches[mode] = ctx.StateCache(enc, max_len=config.contextual_max_len,
                                          layer=depth - config.encoder_layers,
                                          windows=config.contextual_windows)
        res = ctx.finetune_contextual(
            texts(sub), y_all[sub], texts(val_idx), y_all[val_idx], texts(test_idx),
            y_all[test_idx], cache=caches[mode], layers=config.encoder_layers,
            head_learning_rate=config.learning_rate,
            **{**common, "head": config.encoder_head,
               "epochs": min(config.epochs, config.encoder_epochs)})
    run = RunResult(**{k: res[k] for k in RunResult.__dataclass_fields__ if k in res})
    run.test_interval = list(bootstrap_interval(y_all[test_idx], res["test_predictions"],
                                                seed=config.seed))
    return run, res["val_probabilities"], res["test_probabilities"]


def _announce(run: RunResult, on_event: ProgressFn | None, *, log_it: bool = True) -> None:
    """A finished run's line: to the log, and to ``on_event`` when given."""
    line = run_line(run)
    if log_it:
        log.info(line)
    if on_event is not None:
        on_event(line)


def _verdict(runs: Sequence[RunResult], predictions: dict[tuple[str, float], np.ndarray],
             y_te: np.ndarray, fraction: float, seed: int) -> str:
    """:func:`~wordvecs.training.baselines.verdict` on the runs at ``fraction`` (the largest)."""
    last = [r for r in runs if r.fraction == fraction]
    return verdict([ModeResult(MODE_NAMES.get(r.mode, r.mode), y_te,
                               predictions[(r.mode, r.fraction)], baseline=r.baseline)
                    for r in last], seed=seed) if last else ""


# --- the baselines -------------------------------------------------------------------------------
def _sklearn_installed(remarks: list[str], what: str) -> bool:
    """Whether scikit-learn is installed (else a remark that ``what`` was skipped)."""
    if importlib.util.find_spec("sklearn") is None:
        remarks.append(f"- {what}: skipped (scikit-learn is not installed: pip install "
                       "'wordvecs[baselines]')")
        return False
    return True


def _baselines_available(config: TrainConfig, remarks: list[str]) -> bool:
    """Whether to fit the baselines: asked for and scikit-learn installed (else a remark)."""
    return config.baselines and _sklearn_installed(remarks, "baselines")


class _SentenceCache:
    """Sentence embeddings of an experiment's documents for the ``sentvec`` baseline, each text
    encoded once (for every fraction), as sentence-transformers makes them
    (:meth:`wordvecs.encoders.encoder.Encoder.embed`)."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.name: str = encoder.name
        self._vecs: dict[str, np.ndarray] = {}

    @classmethod
    def open(cls, name: str, remarks: list[str]) -> _SentenceCache | None:
        """The cache of encoder ``name``, or ``None`` and a remark when it cannot load."""
        try:
            from wordvecs.encoders.encoder import load_encoder

            return cls(load_encoder(name))
        except (ImportError, WordvecsError) as e:  # not installed: the report says so
            why = str(e).splitlines()[0] if str(e) else type(e).__name__
            remarks.append(f"- sentvec: skipped ({why})")
            return None

    def fill(self, texts: Sequence[str], *, progress: bool | None = None) -> float:
        """Encode the texts not cached yet; the seconds it took."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._vecs]
        t0 = time.perf_counter()
        if todo:
            vecs = self.encoder.embed(todo, progress=progress_enabled(progress) and
                                      len(todo) >= 1000)
            self._vecs.update(zip(todo, vecs))
        return time.perf_counter() - t0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.fill(texts)
        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self._vecs[t] for t in texts])


def _mean_vector_source(source: Any) -> Vectors | None:
    """The vectors the mean-vector baseline averages: ``source`` when it is a word table (read
    vectors, or a Distiller's vectors for the fraction's vocabulary), else ``None`` (skipped)."""
    return source if isinstance(source, Vectors) else None


def fit_baselines(train_texts: Sequence[str], train_y: np.ndarray, val_texts: Sequence[str],
                  val_y: np.ndarray, test_texts: Sequence[str], *, n_classes: int, seed: int,
                  vectors: Vectors | None, tokenize: Callable[[str], list[str]],
                  cs: Sequence[float] = TFIDF_CS,
                  sentences: Callable[[Sequence[str]], np.ndarray] | None = None,
                  only: Sequence[str] | None = None
                  ) -> tuple[list[tuple[Any, np.ndarray, np.ndarray]], dict[str, str]]:
    """Fit the baselines on the training texts (settings chosen on the validation split) and
    give their probabilities on the validation and test texts: ``[(BaselineModel, val
    probabilities, test probabilities)]``, TF-IDF first, then the mean vectors (when
    ``vectors`` is given), then the sentence embeddings (when ``sentences`` is given: texts ->
    embeddings); and ``{mode: why}`` for a baseline scikit-learn could not fit (texts with no
    word of two letters leave TF-IDF no vocabulary, say). ``only``: the baselines to fit.

    The test labels are not an argument: the test texts are only ever predicted.
    """
    from wordvecs.training import baselines as bl

    fits: dict[str, Callable[[], Any]] = {"tfidf": lambda: bl.tfidf_logreg(
        train_texts, train_y, val_texts, val_y, seed=seed, cs=cs, n_classes=n_classes)}
    if vectors is not None:
        fits["meanvec"] = lambda: bl.mean_vectors_logreg(
            vectors, tokenize, train_texts, train_y, val_texts, val_y, seed=seed,
            n_classes=n_classes)
    if sentences is not None:
        fits["sentvec"] = lambda: bl.sentence_logreg(
            sentences, train_texts, train_y, val_texts, val_y, seed=seed, n_classes=n_classes,
            encoder=getattr(sentences, "name", ""))
    out, skipped = [], {}
    for mode, fit in fits.items():
        if only is not None and mode not in only:
            continue
        try:
            m = fit()
            out.append((m, m.predict_proba(val_texts), m.predict_proba(test_texts)))
        except ValueError as e:  # scikit-learn's refusals (our own errors pass through)
            if isinstance(e, WordvecsError):
                raise
            skipped[mode] = str(e).splitlines()[0] if str(e) else type(e).__name__
    return out, skipped


def _baseline_runs(data: TextData, split: tuple[np.ndarray, np.ndarray, np.ndarray],
                   y_all: np.ndarray, n_classes: int, config: TrainConfig, fraction: float,
                   source: Any, vectors_name: str, tokenize: Callable[[str], list[str]],
                   not_fitted: dict[tuple[str, str], list[float]], *,
                   sentences: _SentenceCache | None = None, only: Sequence[str] | None = None
                   ) -> list[tuple[RunResult, np.ndarray, np.ndarray]]:
    """The baselines at one fraction: fitted on the fraction's training documents ``split[0]``
    (the embedding runs' own), tuned on the validation split, scored on the test split; each
    as a :class:`RunResult` with its validation and test probabilities. Those not fitted, and
    why, are added to ``not_fitted``."""
    sub, val_idx, test_idx = split
    texts = lambda idx: [data.texts[i] for i in idx]  # noqa: E731
    table = _mean_vector_source(source)
    encode_seconds = None
    if sentences is not None and (only is None or "sentvec" in only):
        encode_seconds = round(sentences.fill(texts([*sub, *val_idx, *test_idx])), 2)
    fitted, skipped = fit_baselines(texts(sub), y_all[sub], texts(val_idx), y_all[val_idx],
                                    texts(test_idx), n_classes=n_classes, seed=config.seed,
                                    vectors=table, tokenize=tokenize, sentences=sentences,
                                    only=only)
    if table is None and (only is None or "meanvec" in only):
        skipped["meanvec"] = f"{vectors_name or 'the vectors'} give no word table to average"
    for mode, why in skipped.items():
        not_fitted.setdefault((mode, why), []).append(fraction)
    y_va, y_te = y_all[val_idx], y_all[test_idx]
    out = []
    for b, p_va, p_te in fitted:
        run = _baseline_run(b, np.argmax(p_va, axis=1), np.argmax(p_te, axis=1), y_va, y_te,
                            fraction, len(np.unique(y_all[sub])), n_classes, config.seed,
                            {"meanvec": vectors_name, "sentvec": b.params.get("encoder", "")
                             }.get(b.mode, ""), len(sub))
        if b.mode == "sentvec":
            run.encode_seconds = encode_seconds
        out.append((run, p_va, p_te))
    return out


def _baseline_run(b: Any, pred_va: np.ndarray, pred_te: np.ndarray, y_va: np.ndarray,
                  y_te: np.ndarray, fraction: float, train_classes: int, n_classes: int,
                  seed: int, vectors: str, train_size: int) -> RunResult:
    """A fitted baseline as a row of the report (its coefficients as trainable parameters)."""
    features = (b.params["word_ngrams"] + b.params["char_ngrams"] if b.mode == "tfidf"
                else b.params["dim"])
    rows = 1 if train_classes == 2 else train_classes  # scikit-learn: one row for two classes
    params = (features + 1) * rows
    return RunResult(
        mode=b.mode, fraction=fraction, train_size=train_size,
        test_accuracy=float(np.mean(pred_te == y_te)),
        macro_f1=macro_f1(y_te, pred_te, n_classes),
        val_accuracy=float(np.mean(pred_va == y_va)), epochs=0, best_epoch=0,
        train_seconds=round(b.fit_seconds, 1), trainable_params=params, frozen_params=0,
        vectors=vectors, weight_bytes=8 * params,
        test_interval=list(bootstrap_interval(y_te, pred_te, seed=seed)),
        params={**b.params, "search": b.search})


# --- the stack -----------------------------------------------------------------------------------
def _stack_run(parts: Sequence[RunResult],
               probas: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]],
               y_va: np.ndarray, y_te: np.ndarray, n_classes: int, seed: int,
               not_fitted: dict[tuple[str, str], list[float]]
               ) -> tuple[RunResult, np.ndarray, np.ndarray] | None:
    """The ``stack`` mode at one fraction: the TF-IDF baseline and every other model of
    ``parts`` (the embedding runs, the dense baselines), each model's probabilities tempered on
    the validation split, then averaged with equal weights
    (:func:`wordvecs.training.baselines.fit_stack`, which says why not weights fitted on
    validation). ``None`` (and a ``not_fitted`` entry) when TF-IDF or every other model is
    missing."""
    from wordvecs.training.baselines import fit_stack

    fraction = parts[0].fraction if parts else 0.0
    tfidf = next((r for r in parts if r.mode == "tfidf"), None)
    others = [r for r in parts if r.mode not in ("tfidf", "stack")
              and (r.mode, r.fraction) in probas]
    if tfidf is None or not others:
        why = "no TF-IDF model to combine" if tfidf is None else "no other model to combine"
        not_fitted.setdefault(("stack", why), []).append(fraction)
        return None
    va = lambda r: probas[(r.mode, r.fraction)][0]  # noqa: E731
    te = lambda r: probas[(r.mode, r.fraction)][1]  # noqa: E731
    chosen = [tfidf, *others]
    t0 = time.perf_counter()
    stacker = fit_stack([va(r) for r in chosen], y_va)
    p_va = stacker.combine([va(r) for r in chosen])
    p_te = stacker.combine([te(r) for r in chosen])
    own = time.perf_counter() - t0
    pred_va, pred_te = np.argmax(p_va, axis=1), np.argmax(p_te, axis=1)
    encode = [r.encode_seconds for r in chosen if r.encode_seconds is not None]
    run = RunResult(
        mode="stack", fraction=fraction, train_size=tfidf.train_size,
        test_accuracy=float(np.mean(pred_te == y_te)),
        macro_f1=macro_f1(y_te, pred_te, n_classes),
        val_accuracy=float(np.mean(pred_va == y_va)), epochs=0, best_epoch=0,
        train_seconds=round(sum(r.train_seconds for r in chosen) + own, 1),
        trainable_params=sum(r.trainable_params for r in chosen),
        frozen_params=sum(r.frozen_params for r in chosen),
        vectors=", ".join(dict.fromkeys(r.vectors for r in chosen if r.vectors)),
        encode_seconds=round(sum(encode), 2) if encode else None,
        weight_bytes=sum(r.weight_bytes or 0 for r in chosen),
        test_interval=list(bootstrap_interval(y_te, pred_te, seed=seed)),
        params={"components": [r.mode for r in chosen],
                "weights": [round(w, 4) for w in stacker.weights],
                "temperatures": [round(t, 4) for t in stacker.temperatures],
                "val_log_loss": round(stacker.val_log_loss, 4),
                "component_val_log_losses": [round(x, 4) for x in stacker.single_log_losses]})
    return run, p_va, p_te


class _BarCallback:
    """Shows the epoch and the validation accuracy on the tqdm bar (a Keras callback by duck)."""

    def __new__(cls, bar: Any) -> Any:
        keras = _keras()

        class _CB(keras.callbacks.Callback):  # type: ignore[misc,name-defined]
            def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
                logs = logs or {}
                bar.set_postfix(epoch=epoch + 1, val_acc=f"{logs.get('val_accuracy', 0):.3f}")

        return _CB()
