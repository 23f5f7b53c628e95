"""The transfer-learning experiment: one architecture, the embedding frozen, fine-tuned or scratch.

:func:`run_experiment` splits a labelled data set (stratified, from a seed), and for each training
fraction builds the vocabulary of that training subset and its embedding matrix, then trains the
same model with each embedding mode, early-stopped on the validation split, and scores it on the
test split. :func:`wordvecs.report.write_report` turns the result into ``report.md``,
``report.json`` and PNG plots; the best model (by validation accuracy, at the largest fraction) is
saved as a :class:`Classifier` that needs no vector file to predict.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import atomic_file
from .datasets import (
    TextData,
    Vocabulary,
    default_max_len,
    stratified_split,
    stratified_subsample,
    validate_dataset,
)
from .errors import DataError, VocabularyError, require
from .vectors import Vectors

__all__ = [
    "MODELS",
    "MODES",
    "Classifier",
    "Experiment",
    "RunResult",
    "TrainConfig",
    "build_model",
    "load_classifier",
    "macro_f1",
    "run_experiment",
]

log = logging.getLogger(__name__)

MODES = ("frozen", "finetune", "scratch", "contextual")
#: The modes trained unless others are asked ("contextual" needs the bert extra).
DEFAULT_MODES = ("frozen", "finetune", "scratch")
MODELS = ("avg", "cnn", "bilstm")
CLASSIFIER_FORMAT = 1


@dataclass
class TrainConfig:
    """Settings of an experiment (the defaults are those of ``wordvecs train``)."""

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

    def check(self) -> None:
        """Raise ValueError for a setting that cannot work, naming it."""
        for m in self.modes:
            if m not in MODES:
                raise ValueError(f"unknown mode {m!r}; expected one of {', '.join(MODES)}")
        if not self.modes:
            raise ValueError("no modes to train")
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; expected one of {', '.join(MODELS)}")
        for f in self.fractions:
            if not 0 < f <= 1:
                raise ValueError(f"training fraction must be in (0, 1]. Received: {f}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1. Received: epochs={self.epochs}")
        if self.max_len is not None and self.max_len < 1:
            raise ValueError(f"max_len must be at least 1. Received: max_len={self.max_len}")
        if self.max_tokens < 3:
            raise ValueError(f"max_tokens must be at least 3. Received: {self.max_tokens}")


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

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["config"]["modes"] = list(self.config.modes)
        d["config"]["fractions"] = list(self.config.fractions)
        return d

    def run(self, mode: str, fraction: float) -> RunResult | None:
        for r in self.runs:
            if r.mode == mode and r.fraction == fraction:
                return r
        return None


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """The unweighted mean of the per-class F1 scores (a class absent from both counts as 0)."""
    scores = []
    for c in range(n_classes):
        tp = int(np.sum((y_pred == c) & (y_true == c)))
        fp = int(np.sum((y_pred == c) & (y_true != c)))
        fn = int(np.sum((y_pred != c) & (y_true == c)))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


# --- the model -----------------------------------------------------------------------------------
def _keras() -> Any:
    return require("keras", "keras")


def build_model(kind: str, *, max_len: int, n_classes: int, rows: int, dim: int,
                mode: str, matrix: np.ndarray | None = None, learning_rate: float = 1e-3) -> Any:
    """A compiled Keras classifier: Embedding -> ``kind`` (avg, cnn, bilstm) -> softmax.

    ``mode``: ``"frozen"`` / ``"finetune"`` start the Embedding from ``matrix``; ``"scratch"``
    starts it at random. Only ``"frozen"`` leaves it untrainable.
    """
    keras = _keras()
    from .keras import check_matrix_fits, embedding_layer

    mask = kind in ("avg", "bilstm")  # Conv1D does not take a mask; zero rows do the work there
    if mode == "scratch":
        emb = keras.layers.Embedding(rows, dim, mask_zero=mask, name="embedding")
    else:
        if matrix is None:
            raise ValueError(f"mode {mode!r} needs a pre-trained matrix")
        check_matrix_fits(matrix, vocab_size=rows, model_dim=dim)
        emb = embedding_layer(matrix, trainable=mode == "finetune", mask_zero=mask,
                              name="embedding")
    inputs = keras.Input(shape=(max_len,), dtype="int32", name="tokens")
    x = emb(inputs)
    if kind == "avg":
        x = keras.layers.GlobalAveragePooling1D()(x)
        x = keras.layers.Dense(64, activation="relu")(x)
        x = keras.layers.Dropout(0.3)(x)
    elif kind == "cnn":
        x = keras.layers.Dropout(0.2)(x)
        x = keras.layers.Conv1D(128, 5, activation="relu")(x)
        x = keras.layers.GlobalMaxPooling1D()(x)
        x = keras.layers.Dropout(0.5)(x)
    elif kind == "bilstm":
        x = keras.layers.Bidirectional(keras.layers.LSTM(32))(x)
        x = keras.layers.Dropout(0.3)(x)
    else:
        raise ValueError(f"unknown model {kind!r}; expected one of {', '.join(MODELS)}")
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="label")(x)
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


def run_experiment(data: TextData, vectors: Vectors, config: TrainConfig | None = None, *,
                   out: str | os.PathLike[str] | None = None, progress: bool = True,
                   on_event: ProgressFn | None = None) -> Experiment:
    """Train every mode at every fraction; save the best model to ``out`` (when given).

    Args:
        data: texts and labels (checked: rows, at least two classes, no empty text).
        vectors: the pre-trained vectors (only the rows of the vocabulary are read).
        config: the settings; :class:`TrainConfig` defaults when ``None``.
        out: a folder for the best :class:`Classifier` (the report is written separately by
            :func:`wordvecs.report.write_report`).
        progress: a progress bar over the runs, updated each epoch.
        on_event: called with a line of text after each run (the CLI prints it).
    """
    from .matrix import build_matrix

    config = config or TrainConfig()
    config.check()
    validate_dataset(data)
    keras = _keras()
    t_start = time.perf_counter()
    classes = data.classes
    label_index = {c: i for i, c in enumerate(classes)}
    y_all = np.array([label_index[y] for y in data.labels], dtype=np.int32)
    train_idx, val_idx, test_idx = stratified_split(data.labels, config.seed, config.val,
                                                    config.test)
    if len(val_idx) == 0 or len(test_idx) == 0:
        raise DataError(f"{data.source}: {len(data)} rows are too few for a validation and a "
                        "test split; give more rows")
    fractions = sorted(set(config.fractions))
    full_vocab = Vocabulary.from_texts([data.texts[i] for i in train_idx], config.max_tokens)
    lengths = [len(full_vocab.tokenizer(data.texts[i])) for i in train_idx]
    max_len = config.max_len or default_max_len(lengths)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(fractions) * len(config.modes), desc="training", unit="run",
                   leave=False, dynamic_ncols=True)
    runs: list[RunResult] = []
    best: tuple[float, RunResult, Any, Vocabulary] | None = None
    coverage: dict[str, Any] = {}
    coverage_summary = ""
    rows = dim = 0
    contextual_cache: list[Any] = []  # one StateCache for every fraction: each text encoded once
    try:
        for fraction in fractions:
            sub = stratified_subsample(data.labels, train_idx, fraction, config.seed)
            vocab = (full_vocab if fraction == 1.0 else
                     Vocabulary.from_texts([data.texts[i] for i in sub], config.max_tokens))
            source = (vectors.for_vocab(vocab.words, vocab.word_counts())  # type: ignore
                      if hasattr(vectors, "for_vocab") else vectors)  # a Distiller: every word
            em = build_matrix(source, vocab.token_list(), counts=vocab.word_counts(),
                              seed=config.seed)
            rows, dim = em.rows, em.dim
            if fraction == fractions[-1]:
                coverage, coverage_summary = em.to_dict(), em.summary()
            x_tr = vocab.encode([data.texts[i] for i in sub], max_len)
            x_va = vocab.encode([data.texts[i] for i in val_idx], max_len)
            x_te = vocab.encode([data.texts[i] for i in test_idx], max_len)
            y_tr, y_va, y_te = y_all[sub], y_all[val_idx], y_all[test_idx]
            for mode in config.modes:
                if bar is not None:
                    bar.set_description(f"{mode} @ {fraction:g}")
                _seed_everything(config.seed)
                if mode == "contextual":  # the frozen transformer: wordvecs.encoders.contextual
                    run = _contextual_run(data, sub, val_idx, test_idx, y_all, len(classes),
                                          config, fraction, contextual_cache)
                    runs.append(run)
                    if bar is not None:
                        bar.update(1)
                    line = (f"{mode:<9} {fraction:>5.0%} of train ({len(sub):,} docs): test "
                            f"accuracy {run.test_accuracy:.3f}, macro-F1 {run.macro_f1:.3f}, "
                            f"{run.epochs} epochs, {run.train_seconds:.1f} s")
                    if on_event is not None:
                        on_event(line)
                    continue
                model = build_model(config.model, max_len=max_len, n_classes=len(classes),
                                    rows=em.rows, dim=em.dim, mode=mode, matrix=em.matrix,
                                    learning_rate=config.learning_rate)
                callbacks: list[Any] = [keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=config.patience, restore_best_weights=True)]
                if bar is not None:
                    callbacks.append(_BarCallback(bar))
                t0 = time.perf_counter()
                hist = model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=config.epochs,
                                 batch_size=config.batch_size, shuffle=True, verbose=0,
                                 callbacks=callbacks)
                seconds = time.perf_counter() - t0
                history = {k: [float(v) for v in vs] for k, vs in hist.history.items()}
                best_epoch = int(np.argmin(history["val_loss"])) + 1
                pred_te = np.argmax(model.predict(x_te, batch_size=256, verbose=0), axis=1)
                pred_va = np.argmax(model.predict(x_va, batch_size=256, verbose=0), axis=1)
                trainable, frozen = _param_counts(model)
                run = RunResult(
                    mode=mode, fraction=fraction, train_size=len(sub),
                    test_accuracy=float(np.mean(pred_te == y_te)),
                    macro_f1=macro_f1(y_te, pred_te, len(classes)),
                    val_accuracy=float(np.mean(pred_va == y_va)),
                    epochs=len(history["loss"]), best_epoch=best_epoch,
                    train_seconds=round(seconds, 2), trainable_params=trainable,
                    frozen_params=frozen, history=history)
                runs.append(run)
                if fraction == fractions[-1] and (best is None or run.val_accuracy > best[0]):
                    best = (run.val_accuracy, run, model, vocab)
                if bar is not None:
                    bar.update(1)
                line = (f"{mode:<9} {fraction:>5.0%} of train ({len(sub):,} docs): test accuracy "
                        f"{run.test_accuracy:.3f}, macro-F1 {run.macro_f1:.3f}, {run.epochs} "
                        f"epochs, {seconds:.1f} s")
                log.info(line)
                if on_event is not None:
                    on_event(line)
    finally:
        if bar is not None:
            bar.close()

    assert best is not None
    _, best_run, best_model, best_vocab = best
    best_info: dict[str, Any] = {"mode": best_run.mode, "fraction": best_run.fraction,
                                 "val_accuracy": best_run.val_accuracy,
                                 "test_accuracy": best_run.test_accuracy}
    if out is not None:
        clf = Classifier(best_model, best_vocab, classes, max_len,
                         info={"model": config.model, "mode": best_run.mode,
                               "vectors": vectors.source, "seed": config.seed})
        clf.save(out)
        best_info["path"] = str(Path(out))

    n_train = len(train_idx)
    one_hot = n_train * max_len * rows * 4
    dense = n_train * max_len * dim * 4
    memory = {
        "documents": n_train, "max_len": max_len, "vocabulary_rows": rows, "dim": dim,
        "one_hot_bytes": one_hot, "embedded_bytes": dense, "matrix_bytes": rows * dim * 4,
        "ratio": one_hot / dense if dense else None,
    }
    return Experiment(
        config=config,
        dataset={"source": data.source, "format": data.format, "documents": len(data),
                 "classes": classes, "train": n_train, "validation": len(val_idx),
                 "test": len(test_idx), "max_len": max_len,
                 "max_len_from": "given" if config.max_len else "95th percentile of lengths"},
        vectors={"source": vectors.source, "words": len(vectors), "dim": vectors.dim},
        coverage=coverage, coverage_summary=coverage_summary, memory=memory, runs=runs,
        best=best_info, backend=keras.backend.backend(),
        total_seconds=round(time.perf_counter() - t_start, 1))


def _contextual_run(data: TextData, sub: np.ndarray, val_idx: np.ndarray, test_idx: np.ndarray,
                    y_all: np.ndarray, n_classes: int, config: TrainConfig, fraction: float,
                    cache: list[Any]) -> RunResult:
    """The ``contextual`` mode at one fraction (not a candidate for the saved Classifier)."""
    from .encoders.contextual import DEFAULT_MAX_LEN, StateCache, train_contextual

    if not cache:
        cache.append(StateCache("minilm", max_len=DEFAULT_MAX_LEN))
    res = train_contextual(
        [data.texts[i] for i in sub], y_all[sub], [data.texts[i] for i in val_idx],
        y_all[val_idx], [data.texts[i] for i in test_idx], y_all[test_idx],
        n_classes=n_classes, head=config.model, epochs=config.epochs, seed=config.seed,
        max_len=DEFAULT_MAX_LEN, batch_size=config.batch_size, patience=config.patience,
        learning_rate=config.learning_rate, fraction=fraction, cache=cache[0])
    return RunResult(**{k: res[k] for k in RunResult.__dataclass_fields__})


class _BarCallback:
    """Shows the epoch and the validation accuracy on the tqdm bar (a Keras callback by duck)."""

    def __new__(cls, bar: Any) -> Any:
        keras = _keras()

        class _CB(keras.callbacks.Callback):  # type: ignore[misc,name-defined]
            def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
                logs = logs or {}
                bar.set_postfix(epoch=epoch + 1, val_acc=f"{logs.get('val_accuracy', 0):.3f}")

        return _CB()


# --- the saved classifier ------------------------------------------------------------------------
class Classifier:
    """A trained text classifier: a Keras model with its vocabulary, labels and padding length."""

    def __init__(self, model: Any, vocabulary: Vocabulary, labels: Sequence[str], max_len: int,
                 info: dict[str, Any] | None = None) -> None:
        self.model = model
        self.vocabulary = vocabulary
        self.labels = list(labels)
        self.max_len = int(max_len)
        self.info = dict(info or {})
        self._check()

    def _check(self) -> None:
        emb = next((la for la in self.model.layers if la.__class__.__name__ == "Embedding"), None)
        if emb is not None and emb.input_dim != len(self.vocabulary):
            raise VocabularyError(f"the model's Embedding has {emb.input_dim:,} rows but the "
                                  f"vocabulary has {len(self.vocabulary):,} indices")
        n_out = int(self.model.outputs[0].shape[-1])
        if n_out != len(self.labels):
            raise DataError(f"the model predicts {n_out} classes but there are "
                            f"{len(self.labels)} labels")
        in_len = self.model.inputs[0].shape[-1]
        if in_len is not None and int(in_len) != self.max_len:
            raise DataError(f"the model takes sequences of {in_len} tokens but max_len is "
                            f"{self.max_len}")

    def __repr__(self) -> str:
        return (f"<Classifier {len(self.labels)} labels, vocabulary {len(self.vocabulary):,}, "
                f"max_len {self.max_len}>")

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("predict takes a list of texts, not a single string")
        for n, t in enumerate(texts, start=1):
            if not isinstance(t, str) or not t.strip():
                raise DataError(f"text {n} is empty")
        return self.vocabulary.encode(texts, self.max_len)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array (n, classes): each text's probability for each of :attr:`labels`."""
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return np.asarray(self.model.predict(self._encode(texts), batch_size=256, verbose=0),
                          dtype=np.float32)

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """Each text's most likely label and its probability."""
        proba = self.predict_proba(texts)
        best = np.argmax(proba, axis=1) if len(proba) else np.zeros(0, dtype=np.int64)
        return [(self.labels[int(i)], float(proba[n, i])) for n, i in enumerate(best)]

    def evaluate(self, texts: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
        """Accuracy and macro-F1 on labelled texts; a label training never saw is a DataError."""
        index = {c: i for i, c in enumerate(self.labels)}
        for n, y in enumerate(labels, start=1):
            if y not in index:
                raise DataError(f"row {n}: label {y!r} was never seen in training; the model "
                                f"knows {', '.join(map(repr, self.labels))}")
        if len(texts) != len(labels):
            raise DataError(f"{len(texts)} texts for {len(labels)} labels")
        y_true = np.array([index[y] for y in labels])
        y_pred = np.argmax(self.predict_proba(texts), axis=1)
        return {"accuracy": float(np.mean(y_true == y_pred)),
                "macro_f1": macro_f1(y_true, y_pred, len(self.labels)), "documents": len(texts)}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``model.keras``, ``vocabulary.json``, ``labels.json`` and ``classifier.json``.

        Each file is written under a temporary name and renamed into place; no pickle.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        tmp = path / f".model-{uuid.uuid4().hex[:12]}.keras"  # Keras wants the .keras suffix
        model = self.model
        if getattr(model, "optimizer", None) is not None:
            # The optimizer's state (Adam keeps two slots a weight) would triple the file.
            keras = _keras()
            model = keras.models.clone_model(self.model)
            model.set_weights(self.model.get_weights())
        try:
            model.save(tmp)
            os.replace(tmp, path / "model.keras")
        finally:
            if tmp.exists():
                tmp.unlink()
        self.vocabulary.save(path / "vocabulary.json")
        _write_json(path / "labels.json", self.labels)
        _write_json(path / "classifier.json", {
            "format": CLASSIFIER_FORMAT, "max_len": self.max_len,
            "tokenizer": self.vocabulary.tokenizer.to_dict(), **self.info})
        return path


def _write_json(path: Path, obj: Any) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_classifier(path: str | os.PathLike[str]) -> Classifier:
    """Load a :class:`Classifier` saved by ``wordvecs train`` (no vector file needed)."""
    path = Path(path)
    names = ("model.keras", "vocabulary.json", "labels.json", "classifier.json")
    missing = [n for n in names if not (path / n).is_file()]
    if missing:
        raise DataError(f"{path}: not a saved classifier (missing {', '.join(missing)})")
    try:
        meta = json.loads((path / "classifier.json").read_text(encoding="utf-8"))
        labels = json.loads((path / "labels.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: damaged classifier JSON ({exc.msg})") from None
    if meta.get("format") != CLASSIFIER_FORMAT:
        raise DataError(f"{path}: classifier format {meta.get('format')!r}; this release reads "
                        f"{CLASSIFIER_FORMAT}")
    vocab = Vocabulary.load(path / "vocabulary.json")
    keras = _keras()
    model = keras.saving.load_model(path / "model.keras", compile=False)
    info = {k: v for k, v in meta.items() if k not in ("format", "max_len", "tokenizer")}
    return Classifier(model, vocab, labels, int(meta["max_len"]), info=info)
