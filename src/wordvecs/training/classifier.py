"""The saved classifier: a Keras model with its vocabulary, labels, padding length and prior.

A classifier folder holds ``model.keras``, ``vocabulary.json``, ``labels.json`` and
``classifier.json``; no pickle. ``classifier.json`` records the SHA-256 of the three others, and
:func:`load_classifier` checks them, then every field (types, shapes against the model), and the
Keras config (only Keras modules, no code) before Keras reads it, so a damaged or hostile folder
is a one-line :class:`~wordvecs.errors.DataError`, never a wrong label or a hang.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
import time
import uuid
import warnings
import weakref
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wordvecs import _atomic as atomic
from wordvecs._atomic import atomic_file
from wordvecs._hashing import sha256_file
from wordvecs.errors import ArgumentTypeError, DataError, VocabularyError, WordvecsError
from wordvecs.keras import keras_module as _keras
from wordvecs.metrics import macro_f1
from wordvecs.text.dataset_io import text_problem
from wordvecs.text.datasets import Vocabulary
from wordvecs.training.forward import ENV as FORWARD_ENV
from wordvecs.training.forward import Unsupported, forward_mode, load_forward

__all__ = ["CLASSIFIER_FILES", "Classifier", "Prediction", "load_classifier", "text_problem"]

log = logging.getLogger(__name__)

CLASSIFIER_FORMAT = 2
#: The files a saved classifier is made of (the only ones :meth:`Classifier.save` writes).
CLASSIFIER_FILES = ("model.keras", "vocabulary.json", "labels.json", "classifier.json")
_DIGESTED = ("model.keras", "vocabulary.json", "labels.json")
_KERAS_MEMBERS = {"metadata.json", "config.json", "model.weights.h5"}
_MAX_CONFIG_BYTES = 16 << 20
SUBWORDS_DIR = "subwords"
_META_KEYS = {"format", "max_len", "tokenizer", "prior", "sha256", "subwords"}


@dataclass(frozen=True)
class Prediction:
    """One text's result: the most likely label, its probability, and how it was reached.

    ``known_tokens`` counts the tokens the vocabulary knows; with none, the model has nothing to
    go on and the result is the training prior (``from_prior`` is true).
    """

    label: str
    probability: float
    probabilities: dict[str, float]
    tokens: int
    known_tokens: int
    from_prior: bool




class Classifier:
    """A trained text classifier: a Keras model with its vocabulary, labels and padding length.

    ``prior``: each label's share of the training data (uniform when not given), the answer for
    a text in which the vocabulary knows no token.
    """

    def __init__(self, model: Any, vocabulary: Vocabulary, labels: Sequence[str], max_len: int,
                 info: dict[str, Any] | None = None,
                 prior: Sequence[float] | np.ndarray | None = None,
                 subwords: Any = None, *, forward: Any = None,
                 model_file: Any = None) -> None:
        if isinstance(labels, str) or not all(isinstance(y, str) and y for y in labels):
            raise DataError(f"labels must be a list of non-empty strings. Received: {labels!r}")
        if len(set(labels)) != len(labels):
            raise DataError(f"labels must be distinct. Received: {list(labels)!r}")
        self._model = model
        self._forward = forward  # a NumpyForward: predictions without Keras
        self._model_file = model_file  # where a lazy ``model`` loads from (a private copy)
        self.subwords = subwords  # a SubwordFallback: unseen words get their subword vectors
        self.vocabulary = vocabulary
        self.labels = list(labels)
        self.max_len = int(max_len)
        self.info = dict(info or {})
        self._check()  # shapes first: a label too many is said as such, not as a bad prior
        n = len(self.labels)
        self.prior = np.full(n, 1 / n) if prior is None else np.asarray(prior, dtype=np.float64)
        if (self.prior.shape != (n,) or not np.all(np.isfinite(self.prior))
                or np.any(self.prior < 0) or not math.isclose(self.prior.sum(), 1, abs_tol=1e-6)):
            raise DataError(f"prior must be {n} non-negative numbers that sum to 1. "
                            f"Received: {np.atleast_1d(self.prior).tolist()!r}")

    @property
    def model(self) -> Any:
        """The Keras model. A classifier that :func:`load_classifier` set up to predict in NumPy
        (:mod:`wordvecs.training.forward`) builds it (importing Keras) on first use only."""
        if self._model is None:
            if self._model_file is None:
                raise DataError("this classifier has no Keras model")
            self._model = _load_keras_model(self._model_file.path, self._model_file.shown)
        return self._model

    @property
    def forward(self) -> str:
        """How this classifier predicts: ``"numpy"`` or ``"keras"``."""
        return "numpy" if self._forward is not None else "keras"

    def _check(self) -> None:
        if self._forward is not None:
            rows: int | None = self._forward.rows
            n_out, in_len = self._forward.n_out, self._forward.max_len
        else:
            emb = next((la for la in self.model.layers
                        if la.__class__.__name__ == "Embedding"), None)
            rows = None if emb is None else int(emb.input_dim)
            n_out = int(self.model.outputs[0].shape[-1])
            in_len = self.model.inputs[0].shape[-1]
        if rows is not None and rows != len(self.vocabulary):
            raise VocabularyError(f"the model's Embedding has {rows:,} rows but the "
                                  f"vocabulary has {len(self.vocabulary):,} indices")
        if n_out != len(self.labels):
            raise DataError(f"the model predicts {n_out} classes but there are "
                            f"{len(self.labels)} labels")
        if in_len is not None and int(in_len) != self.max_len:
            raise DataError(f"the model takes sequences of {in_len} tokens but max_len is "
                            f"{self.max_len}")

    def __repr__(self) -> str:
        return (f"<Classifier {len(self.labels)} labels, vocabulary {len(self.vocabulary):,}, "
                f"max_len {self.max_len}>")

    def _encode(self, texts: Sequence[str]) -> tuple[np.ndarray, list[int], list[int]]:
        if isinstance(texts, str):
            raise ArgumentTypeError("predict takes a list of texts, not a single string")
        for n, t in enumerate(texts, start=1):
            if not isinstance(t, str) or not t.strip():
                raise DataError(f"text {n} is empty")
            problem = text_problem(t)
            if problem is not None:
                raise DataError(f"text {n} {problem}")
        seqs = [self.vocabulary.encode_one(t) for t in texts]
        x = np.zeros((len(seqs), self.max_len), dtype=np.int32)
        for i, s in enumerate(seqs):
            s = s[: self.max_len]
            x[i, : len(s)] = s
        return x, [len(s) for s in seqs], [sum(1 for i in s if i > 1) for s in seqs]

    def _proba(self, texts: Sequence[str]) -> tuple[np.ndarray, list[int], list[int], np.ndarray]:
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32), [], [], np.zeros(0, bool)
        x, n_tokens, n_known = self._encode(texts)
        extra = None
        if self.subwords is not None:  # unseen words: extra rows holding their subword vectors
            x, extra = self.subwords.encode(self, texts)
            n_known = [int(np.count_nonzero(row > 1)) for row in x]
        if self._forward is not None:  # NumPy: no Keras (wordvecs.training.forward)
            out = self._forward.predict(x, extra)
        else:
            model = self.model if extra is None else self.subwords.model_for(self, extra)
            # one batch: predict_on_batch skips predict()'s per-call set-up (a served request)
            out = (model.predict_on_batch(x) if len(x) <= 256 else
                   model.predict(x, batch_size=256, verbose=0))
        proba = np.asarray(out, dtype=np.float32)
        prior = np.array(n_known) == 0
        bad = ~np.all(np.isfinite(proba), axis=1) & ~prior
        if bad.any():
            log.warning("the model gave non-finite probabilities for %d text(s); answered with "
                        "the prior", int(bad.sum()))
        use = prior | bad
        proba[use] = self.prior.astype(np.float32)
        return proba, n_tokens, n_known, use

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array (n, classes): each text's probability for each of :attr:`labels`.

        A text in which the vocabulary knows no token gets :attr:`prior`.
        """
        return self._proba(texts)[0]

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """Each text's most likely label and its probability."""
        return [(p.label, p.probability) for p in self.predict_details(texts)]

    def predict_details(self, texts: Sequence[str]) -> list[Prediction]:
        """Each text's :class:`Prediction`: label, probabilities, known tokens, prior used."""
        proba, n_tokens, n_known, used_prior = self._proba(texts)
        out = []
        for n, row in enumerate(proba):
            i = int(np.argmax(row))
            out.append(Prediction(self.labels[i], float(row[i]),
                                  {y: float(p) for y, p in zip(self.labels, row)},
                                  n_tokens[n], n_known[n], bool(used_prior[n])))
        return out

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

    @staticmethod
    def check_destination(path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Raise :class:`DataError` when ``path`` holds a classifier's files and not
        ``overwrite``, or is not a folder; :class:`~wordvecs.errors.WriteError` when one of those
        names is something a save may never replace (a symbolic link, a folder of the user's)."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise DataError(f"{path}: exists and is not a folder")
        taken = [n for n in (*CLASSIFIER_FILES, SUBWORDS_DIR)
                 if (path / n).exists() or (path / n).is_symlink()]
        if taken and not overwrite:
            raise DataError(f"{path}: already holds a saved classifier ({', '.join(taken)}); "
                            "pass overwrite=True (--force) to replace it")
        for name in CLASSIFIER_FILES:
            atomic.check_destination(path / name, folder=False, overwrite=True)
        atomic.check_destination(path / SUBWORDS_DIR, folder=True, overwrite=True,
                                 is_ours=_is_subwords_dir)

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write ``model.keras``, ``vocabulary.json``, ``labels.json``, ``classifier.json`` (and
        ``subwords/`` when the classifier has a subword table).

        Everything is first written into a hidden folder inside ``path``; then each file is
        renamed into place (never written through: a symbolic link or a file of the user's under
        one of these names is refused, an earlier classifier's files are replaced only with
        ``overwrite``), ``classifier.json`` last. It records the digest of every other file, taken
        from what this save wrote, so a loader racing the save reads one whole classifier or
        tries again, never a mix. No other file in ``path`` is touched; no pickle.
        """
        path = Path(path)
        self.check_destination(path, overwrite=overwrite)
        path.mkdir(parents=True, exist_ok=True)
        stage = path / f".classifier.tmp-{uuid.uuid4().hex[:12]}"
        model = self.model
        if getattr(model, "optimizer", None) is not None:
            # The optimizer's state (Adam keeps two slots a weight) would triple the file.
            # keras.models.clone_model compiles the clone again, slots and all: the model is
            # built anew from its config instead (not compiled: no optimizer).
            model = model.__class__.from_config(model.get_config())
            model.set_weights(self.model.get_weights())
        try:
            atomic.clean_stale(path / "classifier")
            stage.mkdir()
            model.save(stage / "model.keras")  # Keras wants the .keras suffix
            self.vocabulary.save(stage / "vocabulary.json")
            _write_json(stage / "labels.json", self.labels)
            extra: dict[str, Any] = {}
            if self.subwords is not None:
                extra["subwords"] = {"files": self.subwords.save(stage / SUBWORDS_DIR),
                                     "rows": int(self.subwords.subwords.table.shape[0]),
                                     "bytes": self.subwords.nbytes}
            _write_json(stage / "classifier.json", {
                "format": CLASSIFIER_FORMAT, "max_len": self.max_len,
                "tokenizer": self.vocabulary.tokenizer.to_dict(),
                "prior": [float(p) for p in self.prior],
                "sha256": {n: sha256_file(stage / n) for n in _DIGESTED}, **self.info, **extra})
            for name in _DIGESTED:
                atomic.place(stage / name, path / name, folder=False, overwrite=overwrite)
            if self.subwords is not None:
                atomic.place(stage / SUBWORDS_DIR, path / SUBWORDS_DIR, folder=True,
                             overwrite=overwrite, is_ours=_is_subwords_dir)
            atomic.place(stage / "classifier.json", path / "classifier.json", folder=False,
                         overwrite=overwrite)
            if self.subwords is None:  # an earlier classifier's table: no longer this one's
                atomic.remove_ours(path / SUBWORDS_DIR, _is_subwords_dir)
            atomic.fsync_dir(path)
        except OSError as exc:
            raise atomic.write_error(exc, path) from None
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        return path


def _is_subwords_dir(path: Path) -> bool:
    """Whether the folder ``path`` holds nothing but a classifier's subword files."""
    from wordvecs.formats.subword_store import SUBWORD_FILES

    try:
        with os.scandir(path) as entries:
            return all(e.name in SUBWORD_FILES for e in entries)
    except OSError:
        return False


def _write_json(path: Path, obj: Any) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _parse_json(data: bytes, path: Path) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}, byte offset {exc.start}: not UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: damaged JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:
        raise DataError(f"{path}: JSON nested too deeply") from None


def _check_keras_config(file: Path, path: Path) -> None:
    """Refuse a ``.keras`` file with unexpected members or a config naming a non-Keras module
    (``file`` is read; ``path`` is the name errors give)."""
    try:
        with zipfile.ZipFile(file) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            extra = sorted(set(infos) - _KERAS_MEMBERS)
            if extra or "config.json" not in infos:
                raise DataError(f"{path}: not a Keras model file of a wordvecs classifier "
                                f"(members {sorted(infos)}; expected "
                                f"{sorted(_KERAS_MEMBERS)})")
            if infos["config.json"].file_size > _MAX_CONFIG_BYTES:
                raise DataError(f"{path}: config.json is {infos['config.json'].file_size:,} "
                                f"bytes, more than a classifier's config takes")
            raw = zf.read("config.json")
            weight_bytes = infos["model.weights.h5"].file_size if (
                "model.weights.h5" in infos) else 0
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a Keras model file ({exc})") from None
    try:
        config = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: config.json is damaged ({exc})") from None
    except RecursionError:
        raise DataError(f"{path}: config.json nested too deeply") from None
    declared = 0
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            declared += _least_weights(node)
            module = node.get("module")
            if "module" in node and not (isinstance(module, str) and (
                    module == "keras" or module.startswith("keras."))):
                raise DataError(f"{path}: the model's config names the module {module!r} "
                                f"(class {node.get('class_name')!r}); a classifier holds Keras "
                                "layers only")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    if declared * _MIN_WEIGHT_BYTES > weight_bytes:  # checked before Keras builds anything
        raise DataError(f"{path}: the model's config declares at least {declared:,} weights but "
                        f"its weights file holds {weight_bytes:,} bytes (a damaged or crafted "
                        "config: sizes are checked before the model is built)")


_MIN_WEIGHT_BYTES = 2  # float16 / bfloat16: the smallest a weight is stored in


def _least_weights(node: dict[str, Any]) -> int:
    """The fewest weights the layer ``node`` of a Keras config can hold: an Embedding's table, a
    Dense's units (its bias or a kernel column each), a convolution's filters, an RNN's units;
    0 for anything else. A size that is not a positive integer counts as absurd."""
    cfg = node.get("config")
    if not isinstance(cfg, dict) or not isinstance(node.get("class_name"), str):
        return 0
    keys = ("input_dim", "output_dim") if node["class_name"] == "Embedding" else (
        ("units",) if "units" in cfg else ("filters",) if "filters" in cfg else ())
    total = 1
    for key in keys:
        value = cfg.get(key)
        if type(value) is not int or value < 1:
            return 1 << 62
        total *= value
    return total if keys else 0


def _load_keras_model(file: Path, shown: Path) -> Any:
    """Keras' model from the checked ``.keras`` file ``file`` (``shown``: the name errors give)."""
    keras = _keras()
    with warnings.catch_warnings(record=True) as said:  # Keras' own words on a crafted file
        warnings.simplefilter("always")
        try:
            model = keras.saving.load_model(file, compile=False, safe_mode=True)
        except Exception as exc:  # a third-party loader on a file from outside: one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise DataError(f"{shown}: Keras cannot load it "
                            f"({type(exc).__name__}: {first[:200]})") from None
    for w in said:  # it loaded: what Keras said goes to the log, not before the answer
        log.warning("%s: Keras: %s", shown, w.message)
    return model


class _ModelFile:
    """A private copy of a loaded classifier's checked ``model.keras`` (moved out of the loader's
    scratch folder), kept while the classifier lives, for a Keras model built on demand."""

    def __init__(self, checked: Path, shown: Path) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="wordvecs-model-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)
        self.path = self.folder / "model.keras"
        shutil.move(checked, self.path)
        self.shown = shown


class _Raced(Exception):
    """classifier.json changed while the folder was read: a save is under way; read again."""


_LOAD_TRIES = 8


def load_classifier(path: str | os.PathLike[str]) -> Classifier:
    """Load a :class:`Classifier` saved by ``wordvecs train`` (no vector file needed).

    Every file is checked (digests, types, shapes against the model) before it is used, and the
    bytes checked are the bytes used: a folder re-saved while it is read is read again (a few
    tries), never taken half from one save and half from the other.
    """
    path = Path(path)
    for attempt in range(_LOAD_TRIES):
        try:
            return _load_once(path)
        except _Raced:
            time.sleep(0.01 * (attempt + 1))
    raise DataError(f"{path}: its files kept changing while being read (another process is "
                    "saving a classifier there); try again when it is done")


def _digested(path: Path, name: str, expected: str, private: Path) -> bytes:
    """``name``'s bytes (``model.keras``: copied to ``private``), checked against ``expected``."""
    h = hashlib.sha256()
    if name == "model.keras":
        with open(path / name, "rb") as src, open(private / name, "wb") as dst:
            for block in iter(lambda: src.read(1 << 20), b""):
                h.update(block)
                dst.write(block)
        data = b""
    else:
        data = (path / name).read_bytes()
        h.update(data)
    if h.hexdigest() != expected:
        raise DataError(f"{path / name}: changed since it was saved (its SHA-256 is not the one "
                        "classifier.json records); save the classifier again")
    return data


def _load_once(path: Path) -> Classifier:
    missing = [n for n in CLASSIFIER_FILES if not (path / n).is_file()]
    if missing:
        raise DataError(f"{path}: not a saved classifier (missing {', '.join(missing)})")
    raw_meta = (path / "classifier.json").read_bytes()
    try:
        with tempfile.TemporaryDirectory(prefix="wordvecs-classifier-") as private:
            return _load_from(path, raw_meta, Path(private))
    except (WordvecsError, OSError):
        try:
            changed = (path / "classifier.json").read_bytes() != raw_meta
        except OSError:
            changed = True
        if changed:
            raise _Raced from None
        raise


def _load_from(path: Path, raw_meta: bytes, private: Path) -> Classifier:
    meta = _parse_json(raw_meta, path / "classifier.json")
    if not isinstance(meta, dict):
        raise DataError(f"{path / 'classifier.json'}: expected a JSON object, found "
                        f"{type(meta).__name__}")
    fmt = meta.get("format")
    if fmt not in (1, CLASSIFIER_FORMAT) or isinstance(fmt, bool):
        raise DataError(f"{path}: classifier format {fmt!r}; this release reads 1 and "
                        f"{CLASSIFIER_FORMAT}")
    blobs: dict[str, bytes] = {}
    if fmt == 1:
        log.warning("%s: a format-1 classifier has no digests; its files cannot be checked "
                    "against each other", path)
        shutil.copyfile(path / "model.keras", private / "model.keras")
        blobs = {n: (path / n).read_bytes() for n in ("vocabulary.json", "labels.json")}
    else:
        digests = meta.get("sha256")
        if not isinstance(digests, dict) or set(digests) != set(_DIGESTED):
            raise DataError(f"{path / 'classifier.json'}: 'sha256' must give the digest of "
                            f"{', '.join(_DIGESTED)}")
        blobs = {name: _digested(path, name, digests[name], private) for name in _DIGESTED}
    max_len = meta.get("max_len")
    if type(max_len) is not int or max_len < 1:
        raise DataError(f"{path / 'classifier.json'}: max_len must be a positive integer. "
                        f"Received: {max_len!r}")
    labels = _parse_json(blobs["labels.json"], path / "labels.json")
    if not isinstance(labels, list) or not labels or not all(
            isinstance(y, str) and y for y in labels):
        raise DataError(f"{path / 'labels.json'}: expected a list of non-empty strings, found "
                        f"{json.dumps(labels)[:80]}")
    prior = meta.get("prior")
    if prior is not None and (not isinstance(prior, list) or not all(
            isinstance(p, int | float) and not isinstance(p, bool) for p in prior)):
        raise DataError(f"{path / 'classifier.json'}: prior must be a list of numbers")
    vocab = Vocabulary.loads(blobs["vocabulary.json"], path / "vocabulary.json")
    tok = meta.get("tokenizer")
    if tok is not None and tok != vocab.tokenizer.to_dict() and fmt >= 2:
        raise DataError(f"{path}: classifier.json and vocabulary.json name different "
                        "tokenizers")
    _check_keras_config(private / "model.keras", path / "model.keras")
    forward, model, model_file = None, None, None
    mode = forward_mode()
    if mode != "keras":  # the graphs `wordvecs train` writes run in NumPy: no Keras import
        try:
            forward = load_forward(private / "model.keras", private, path / "model.keras")
        except Unsupported as exc:
            if mode == "numpy":
                raise DataError(f"{path / 'model.keras'}: not a graph the NumPy forward pass "
                                f"runs ({exc}); unset {FORWARD_ENV} to use Keras") from None
            log.debug("%s: predicting with Keras (%s)", path / "model.keras", exc)
    if forward is None:
        model = _load_keras_model(private / "model.keras", path / "model.keras")
    else:  # Keras builds the model from a private copy only if someone asks for it
        model_file = _ModelFile(private / "model.keras", path / "model.keras")
    info = {k: v for k, v in meta.items() if k not in _META_KEYS}
    subwords = None
    if "subwords" in meta:
        from wordvecs.training.subword_predict import SubwordFallback

        subwords = SubwordFallback.load(path / SUBWORDS_DIR, meta["subwords"].get("files")
                                        if isinstance(meta["subwords"], dict) else None)
    try:
        return Classifier(model, vocab, labels, max_len, info=info, prior=prior,
                          subwords=subwords, forward=forward, model_file=model_file)
    except (DataError, VocabularyError) as exc:
        raise DataError(f"{path}: {exc}") from None
