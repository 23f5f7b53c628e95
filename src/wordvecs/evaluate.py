"""The standard benchmarks: word analogies (Google's questions-words) and word-pair similarity.

Both follow gensim 4.4's ``evaluate_word_analogies`` and ``evaluate_word_pairs`` exactly (the same
vocabulary restriction, case folding, skipped questions and scores) but evaluate the analogies in
batches: one matrix product per block of questions and vocabulary, the question words masked, the
best row kept. A question whose best two candidates are closer than float32 noise, or whose words
have several case variants, is decided again with gensim's own arithmetic, so the counts agree.

The data sets ship inside the package (see ``wordvecs/data/SOURCES.md``), so ``path=None`` works
offline: :data:`ANALOGY_SETS` and :data:`PAIR_SETS` name them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from wordvecs.errors import DataError, UsageError
from wordvecs.progress import Progress, progress_enabled
from wordvecs.similarity import _top, normed, row_norms

if TYPE_CHECKING:
    from wordvecs.vectors import Vectors

__all__ = [
    "ANALOGY_SETS",
    "PAIR_SETS",
    "AnalogyResult",
    "SectionResult",
    "WordPairsResult",
    "analogies",
    "data_path",
    "word_pairs",
]

logger = logging.getLogger(__name__)

#: Built-in analogy sets: name -> file under ``wordvecs/data``.
ANALOGY_SETS = {"google": "questions-words.txt"}
#: Built-in word-pair sets: name -> file under ``wordvecs/data``.
PAIR_SETS = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}

#: Two candidates closer than this are re-scored with gensim's own arithmetic.
_TIE = 1e-5
_ROWS = 4096  # vocabulary rows per block: a 512 x 4096 score tile stays in cache
_BATCH = 512  # questions per block


def data_path(name: str) -> Path:
    """The path of a bundled data set, by set name (``"google"``, ``"simlex999"``) or file name."""
    file = {**ANALOGY_SETS, **PAIR_SETS}.get(name, name)
    path = Path(str(resources.files("wordvecs") / "data" / file))
    if not path.is_file():
        known = ", ".join(sorted({**ANALOGY_SETS, **PAIR_SETS}))
        raise UsageError(f"no bundled data set {name!r}; known: {known}")
    return path


def _resolve(path: str | os.PathLike[str] | None, default: str, names: dict[str, str]) -> Path:
    if path is None:
        return data_path(default)
    text = os.fspath(path)
    if text in names:
        return data_path(text)
    return Path(text)


@dataclass(frozen=True)
class SectionResult:
    """One section of an analogy set: questions answered right, evaluated, and skipped."""

    name: str
    correct: int
    total: int
    skipped: int

    @property
    def accuracy(self) -> float:
        """``correct / total``; 0.0 when no question was evaluated (as gensim)."""
        return self.correct / self.total if self.total else 0.0

    def __str__(self) -> str:
        return (f"{self.name}: {self.correct:,} / {self.total:,} = {self.accuracy:.2%}"
                f" ({self.skipped:,} skipped)")


@dataclass(frozen=True)
class AnalogyResult:
    """The whole analogy evaluation; ``sections`` holds the same counts per section.

    ``total`` counts the questions evaluated; ``skipped`` those with a word outside the first
    ``restrict_vocab`` words (gensim skips them too). gensim's "Total accuracy" is this object.
    """

    correct: int
    total: int
    skipped: int
    sections: tuple[SectionResult, ...]
    method: str = "add"
    restrict_vocab: int | None = None

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def oov_ratio(self) -> float:
        """Percentage of questions skipped for an unknown word (gensim logs this)."""
        n = self.total + self.skipped
        return 100.0 * self.skipped / n if n else 0.0

    def __str__(self) -> str:
        how = "3CosAdd" if self.method == "add" else "3CosMul"
        head = (f"analogies ({how}): {self.correct:,} / {self.total:,} = {self.accuracy:.2%}"
                f" ({self.skipped:,} skipped)")
        return "\n".join([head, *(f"  {s}" for s in self.sections)])

    def __repr__(self) -> str:
        return (f"<AnalogyResult {self.correct:,} / {self.total:,} = {self.accuracy:.2%}, "
                f"{self.skipped:,} skipped, {len(self.sections)} sections, method={self.method!r}>")


@dataclass(frozen=True)
class WordPairsResult:
    """Correlation of the model's cosine similarities with human judgements."""

    pearson: float
    spearman: float
    oov_ratio: float
    pairs: int
    skipped: int

    def __str__(self) -> str:
        return (f"word pairs: pearson {self.pearson:.4f}, spearman {self.spearman:.4f} "
                f"({self.pairs:,} pairs, {self.skipped:,} skipped)")


@dataclass
class _Questions:
    names: list[str]
    section: np.ndarray  # (q,) section number of each evaluated question
    rows: np.ndarray  # (q, 4) rows of a, b, c, expected
    skipped: list[int]


def _ok_vocab(vectors: Vectors, n: int, case_insensitive: bool) -> tuple[list[str], dict[str, int]]:
    words = vectors.words[:n]
    keys = [w.upper() for w in words] if case_insensitive else list(words)
    ok: dict[str, int] = {}
    for i, k in enumerate(keys):
        ok.setdefault(k, i)  # the first occurrence wins (gensim: reversed dict comprehension)
    return keys, ok


def _read_questions(path: Path, ok: dict[str, int], case_insensitive: bool) -> _Questions:
    names: list[str] = []
    skipped: list[int] = []
    sections: list[int] = []
    rows: list[tuple[int, int, int, int]] = []
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh):
            line = raw.decode("utf-8")
            if line.startswith(": "):
                names.append(line.lstrip(": ").strip())
                skipped.append(0)
                continue
            if not names:
                raise DataError(f"{path}, line {line_no + 1}: missing section header "
                                "(': name') before the first question")
            parts = line.split()
            if len(parts) != 4:
                logger.info("skipping invalid line #%i in %s", line_no, path)
                continue
            if case_insensitive:
                parts = [p.upper() for p in parts]
            found = [ok.get(p, -1) for p in parts]
            if min(found) < 0:
                skipped[-1] += 1
                continue
            sections.append(len(names) - 1)
            rows.append((found[0], found[1], found[2], found[3]))
    return _Questions(names, np.asarray(sections, dtype=np.int64),
                      np.asarray(rows, dtype=np.int64).reshape(-1, 4), skipped)


def _nrm2():  # type: ignore[no-untyped-def]
    """gensim's norm for unit vectors: BLAS dnrm2 when scipy is there, else numpy."""
    try:
        from scipy.linalg.blas import dnrm2

        return lambda x: float(dnrm2(x))
    except ImportError:  # pragma: no cover - scipy comes with most installs
        return lambda x: float(np.sqrt(np.dot(x, x)))


def _add_means(unit: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """gensim's unit mean of (b + c - a) for each question, bit for bit: float32 sums, then the
    division by the total weight and the scaling to unit length in float64."""
    m32 = (unit[rows[:, 1]] + unit[rows[:, 2]]) - unit[rows[:, 0]]
    m64 = m32.astype(np.float64) / 3.0
    nrm2 = _nrm2()
    lengths = np.array([nrm2(r) for r in m64])
    lengths[lengths <= 0] = 1.0
    return (m64 * (1.0 / lengths)[:, None]).astype(np.float32)


def _scores(method: str, unit_q: np.ndarray | tuple[np.ndarray, ...], block: np.ndarray
            ) -> np.ndarray:
    if method == "add":
        assert isinstance(unit_q, np.ndarray)
        return unit_q @ block.T
    qa, qb, qc = unit_q
    half = np.float32(0.5)
    num = ((1 + qb @ block.T) * half) * ((1 + qc @ block.T) * half)
    return num / ((1 + qa @ block.T) * half + np.float32(1e-6))


def _best(method: str, unit_q: np.ndarray | tuple[np.ndarray, ...], exclude: np.ndarray,
          unit_ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best row, its score and the second-best score of each question, block by block."""
    b = exclude.shape[0]
    best = np.full(b, -np.inf, dtype=np.float32)
    second = np.full(b, -np.inf, dtype=np.float32)
    best_i = np.zeros(b, dtype=np.int64)
    qi = np.arange(b)
    n = unit_ok.shape[0]
    for start in range(0, n, _ROWS):
        block = unit_ok[start:start + _ROWS]
        s = _scores(method, unit_q, block)
        hit = (exclude >= start) & (exclude < start + block.shape[0])
        qs, cols = np.nonzero(hit)
        s[qs, exclude[qs, cols] - start] = -np.inf
        i1 = s.argmax(axis=1)
        v1 = s[qi, i1]
        s[qi, i1] = -np.inf
        v2 = s.max(axis=1)
        better = v1 > best
        second = np.where(better, np.maximum(best, v2), np.maximum(second, v1))
        best_i = np.where(better, i1 + start, best_i)
        best = np.where(better, v1, best)
    return best_i, best, second


def _gensim_predict(method: str, matrix_ok: np.ndarray, norms_ok: np.ndarray, q: np.ndarray,
                    keys: list[str]) -> str | None:
    """One question decided with gensim's own arithmetic and tie order (the slow, exact path)."""
    a, b, c = (int(x) for x in q[:3])
    if method == "add":
        mean = np.zeros(matrix_ok.shape[1], dtype=np.float32)
        for row, weight in ((b, 1.0), (c, 1.0), (a, -1.0)):
            mean += np.float64(weight) * (matrix_ok[row] / norms_ok[row])
        m64 = mean / 3.0
        length = _nrm2()(m64)
        unit_mean = (m64 * (1.0 / length)).astype(np.float32) if length > 0 else mean
        dists = np.dot(matrix_ok, unit_mean) / norms_ok
    else:
        def shifted(row: int) -> np.ndarray:
            term = matrix_ok[row] / norms_ok[row]
            return (1 + np.dot(matrix_ok, term) / norms_ok) / 2

        dists = (shifted(b) * shifted(c)) / (shifted(a) + 0.000001)
    result = [int(i) for i in _top(dists, 5, exclude=[b, c, a])]
    ignore = {keys[a], keys[b], keys[c]}
    predicted = None
    for i in result:
        predicted = keys[i]
        if predicted not in ignore:
            break
    return predicted


def analogies(vectors: Vectors, path: str | os.PathLike[str] | None = None, *,
              restrict_vocab: int = 300000, case_insensitive: bool = True,
              method: Literal["add", "mul"] = "add", progress: bool | None = None
              ) -> AnalogyResult:
    """Accuracy on an analogy set ("a b c d": a is to b as c is to d), as gensim computes it.

    Args:
        vectors: the vectors to evaluate.
        path: a file of ``: section`` headers and ``a b c d`` lines; ``None`` is the bundled
            Google set (questions-words.txt, 19,544 questions in 14 sections).
        restrict_vocab: only the first N words answer or ask; a question with another word is
            skipped (counted in ``skipped``).
        case_insensitive: compare upper-cased words; among case variants the first row wins.
        method: ``"add"`` (3CosAdd, gensim's ``most_similar``) or ``"mul"`` (3CosMul, gensim's
            ``most_similar_cosmul`` over the same restricted vocabulary).
        progress: show a progress bar over the questions (default: on a terminal).
    """
    if method not in ("add", "mul"):
        raise UsageError(f"method must be 'add' or 'mul'. Received: method={method!r}")
    if restrict_vocab < 1:
        raise UsageError(f"restrict_vocab must be a positive integer. Received: {restrict_vocab}")
    file = _resolve(path, "google", ANALOGY_SETS)
    n = min(len(vectors), int(restrict_vocab))
    keys, ok = _ok_vocab(vectors, n, case_insensitive)
    qs = _read_questions(file, ok, case_insensitive)
    unit_ok = normed(vectors)[:n]
    matrix_ok = vectors.matrix[:n]
    norms_ok = row_norms(matrix_ok)
    # a question word with case variants: gensim skips every variant, decide those exactly
    counts: dict[str, int] = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    dup_rows = np.asarray([i for i, k in enumerate(keys) if counts[k] > 1 and ok[k] == i],
                          dtype=np.int64)
    predicted = np.full(len(qs.rows), -1, dtype=np.int64)
    exact: list[int] = []
    with Progress(len(qs.rows), "analogies", enabled=progress_enabled(progress, None),
                  unit="q") as bar:
        for start in range(0, len(qs.rows), _BATCH):
            rows = qs.rows[start:start + _BATCH]
            if method == "add":
                unit_q: np.ndarray | tuple[np.ndarray, ...] = _add_means(unit_ok, rows)
            else:
                unit_q = (unit_ok[rows[:, 0]], unit_ok[rows[:, 1]], unit_ok[rows[:, 2]])
            best_i, best, second = _best(method, unit_q, rows[:, :3], unit_ok)
            predicted[start:start + len(rows)] = best_i
            tie = (best - second) <= _TIE * np.maximum(1.0, np.abs(best))
            if dup_rows.size:
                tie |= np.isin(rows[:, :3], dup_rows).any(axis=1)
            exact.extend((np.flatnonzero(tie) + start).tolist())
            bar.update(len(rows))
    right = np.zeros(len(qs.rows), dtype=bool)
    if len(qs.rows):
        key_arr = np.asarray(keys, dtype=object)
        right = key_arr[predicted] == key_arr[qs.rows[:, 3]]
    for j in exact:
        guess = _gensim_predict(method, matrix_ok, norms_ok, qs.rows[j], keys)
        right[j] = guess == keys[int(qs.rows[j, 3])]
    logger.info("analogies: %d of %d questions decided by gensim's exact arithmetic",
                len(exact), len(qs.rows))
    per_correct = np.bincount(qs.section[right], minlength=len(qs.names))
    per_total = np.bincount(qs.section, minlength=len(qs.names))
    sections = tuple(SectionResult(name, int(per_correct[i]), int(per_total[i]), qs.skipped[i])
                     for i, name in enumerate(qs.names))
    return AnalogyResult(int(right.sum()), len(qs.rows), sum(qs.skipped), sections,
                         method=method, restrict_vocab=restrict_vocab)


def _rank(x: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties given their average rank (scipy's ``rankdata``)."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    starts = np.r_[True, xs[1:] != xs[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    ends = np.r_[first[1:], len(x)]
    avg = (first + ends + 1) / 2.0
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = avg[group]
    return ranks


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    xm = x - x.mean()
    ym = y - y.mean()
    xn = xm / np.linalg.norm(xm)
    yn = ym / np.linalg.norm(ym)
    return float(np.clip(np.dot(xn, yn), -1.0, 1.0))


def word_pairs(vectors: Vectors, path: str | os.PathLike[str] | None = None, *,
               restrict_vocab: int = 300000, case_insensitive: bool = True,
               delimiter: str = "\t", encoding: str = "utf8") -> WordPairsResult:
    """Pearson and Spearman correlation with human similarity judgements, as gensim computes them.

    ``path``: a file of ``word1<TAB>word2<TAB>score`` lines (``#`` starts a comment), or the name
    of a bundled set: ``"wordsim353"`` (the default) or ``"simlex999"``. A pair with a word
    outside the first ``restrict_vocab`` words is skipped; ``oov_ratio`` is their percentage.
    """
    file = _resolve(path, "wordsim353", PAIR_SETS)
    n = min(len(vectors), int(restrict_vocab))
    _, ok = _ok_vocab(vectors, n, case_insensitive)
    gold: list[float] = []
    pairs: list[tuple[int, int]] = []
    oov = 0
    with open(file, encoding=encoding) as fh:
        for line_no, line in enumerate(fh):
            if not line or line.startswith("#"):
                continue
            try:
                parts = line.split(delimiter)
                if case_insensitive:
                    parts = [p.upper() for p in parts]
                a, b, sim = parts
                score = float(sim)
            except (ValueError, TypeError):
                logger.info("skipping invalid line #%d in %s", line_no, file)
                continue
            if a not in ok or b not in ok:
                oov += 1
                continue
            gold.append(score)
            pairs.append((ok[a], ok[b]))
    if not gold:
        raise DataError(f"no valid similarity judgements in {file}: either not "
                        f"'word1{delimiter!r}word2{delimiter!r}score' lines or all words unknown")
    idx = np.asarray(pairs, dtype=np.int64)
    m64 = vectors.rows(idx.ravel()).astype(np.float64)
    nrm2 = _nrm2()
    lengths = np.array([nrm2(r) for r in m64])
    lengths[lengths <= 0] = 1.0
    unit = (m64 * (1.0 / lengths)[:, None]).astype(np.float32).reshape(len(pairs), 2, -1)
    model = np.array([np.dot(u[0], u[1]) for u in unit], dtype=np.float32).astype(np.float64)
    gold_arr = np.asarray(gold, dtype=np.float64)
    return WordPairsResult(
        pearson=_pearson(gold_arr, model),
        spearman=_pearson(_rank(gold_arr), _rank(model)),
        oov_ratio=100.0 * oov / (len(gold) + oov),
        pairs=len(gold),
        skipped=oov,
    )
