"""Unseen words, one path: an ordered chain of batched resolvers from a word to the best vector.

Each step is a small function that takes the words still unresolved and returns, for those it
resolves, the rows of the vector set that make their vector; the first step that answers wins:

``exact``
    the word itself (its row, bit for bit).
``case``
    case variants as the vectors' casing suggests: ``lower`` for an uncased set (GloVe 6B);
    ``lower``, ``Title``, ``UPPER`` in that order for a cased one (word2vec, fastText).
``unicode``
    NFKC, curly quotes made straight, invisible format characters (U+200B...) dropped; accents
    stripped only when the vectors hold no accented words (an ASCII-folded set); then ``case``.
``split``
    pieces cut at hyphens, underscores, apostrophes (``n't`` and ``'s`` kept as GloVe writes
    them), letter/digit boundaries and camelCase (``self-driving``, ``AmericanAir``,
    ``coachella2015``), used only when *every* piece is a known word (exactly or by ``case``).
``segment``
    pieces that are glued words are segmented by :class:`~wordvecs.segment.Segmenter` (the most
    probable split into the vectors' frequent words: ``americanair`` -> ``american air``).
``subword``
    ``vectors.subwords.word_vectors`` (fastText n-grams) when the vectors have a subword model.

What none of them resolves is left to the OOV policy of :func:`wordvecs.build_matrix`.

Known words are never split (the split steps see only words ``exact`` and ``case`` missed); a
part is a known word or the split is not used; a single-letter part must be frequent by the
vectors' own order (``a``, ``i``). Every step is deterministic.

**A word built of parts gets the plain mean of its parts' vectors** (summed in float64, stored
as float32). Not a frequency-weighted (SIF) mean: the parts of a handle, hashtag or compound
(``american + air``, ``self + driving``, ``coachella + 2015``) are content words of like weight,
the weights would hang on a Zipf guess from row order, and the plain mean is what fastText itself
does when it builds a word from its pieces. Stop-word parts (``of + the``) are rare, since
segmentation prefers few, long parts.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from wordvecs.errors import UsageError, WordNotFound

if TYPE_CHECKING:
    from wordvecs.segment import Segmenter
    from wordvecs.vectors import Vectors

__all__ = ["DEFAULT_STEPS", "STEPS", "Chain", "Resolution", "SubwordModel", "case_variants",
           "split_pieces"]

#: Every step, in the order the chain runs them.
STEPS = ("exact", "case", "unicode", "split", "segment", "subword")
#: The steps on by default: all (``subword`` acts only when the vectors have a subword model).
DEFAULT_STEPS = STEPS


class SubwordModel(Protocol):
    """The subword seam (OOV_INTERFACE.md; the fastText helper's ``wordvecs.subwords``)."""

    dim: int

    def word_vectors(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]: ...


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"',
                         "\u201d": '"', "\u2032": "'"})
_PIECES = re.compile(r"[^\W\d_]+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)\b|\d+|[^\W\d_]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def case_variants(word: str, cased: bool) -> list[str]:
    """The case variants the ``case`` step tries, in order, the word itself left out."""
    low = word.lower()
    if not cased:
        return [low] if low != word else []
    out: list[str] = []
    for form in (low, word[:1].upper() + word[1:].lower(), word.upper()):
        if form != word and form not in out:
            out.append(form)
    return out


def split_pieces(word: str) -> list[str]:
    """The pieces of ``word`` at hyphens, underscores, apostrophes, digits and camelCase."""
    out: list[str] = []
    for piece in _PIECES.findall(word.translate(_QUOTES)):
        if piece[0].isalpha() and not piece.islower():
            out.extend(p for p in _CAMEL.split(piece) if p)
        else:
            out.append(piece)
    return out


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed
                                                if not unicodedata.combining(c)))


def _unicode_form(word: str, strip: bool) -> str:
    text = unicodedata.normalize("NFKC", word).translate(_QUOTES)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return _strip_accents(text) if strip else text


# --- what a vector set tells the chain (built once per Vectors, cached) -------------------------
@dataclass
class _Index:
    cased: bool
    accented: bool
    segmenters: dict[tuple[Any, ...], Segmenter] = field(default_factory=dict)


_INDEX: weakref.WeakKeyDictionary[Vectors, _Index] = weakref.WeakKeyDictionary()


def _index_of(vectors: Vectors, sample: int = 10_000) -> _Index:
    cached = _INDEX.get(vectors)
    if cached is None:
        head = vectors.head(sample).words  # (a store's other words stay unread)
        cased = sum(w != w.lower() for w in head) > 0.001 * max(len(head), 1)
        accented = any(not w.isascii() and _strip_accents(w) != w for w in head)
        cached = _Index(cased, accented)
        _INDEX[vectors] = cached
    return cached


class _Rows:
    """word -> row through the vectors themselves (a store's word index, else their dict), so
    the chain builds no dict of every word of a store, and follows the vectors if they change."""

    __slots__ = ("_vectors",)

    def __init__(self, vectors: Vectors) -> None:
        self._vectors = vectors

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self._vectors

    def __getitem__(self, word: str) -> int:
        row = int(self._vectors.lookup([word])[0])
        if row < 0:
            raise WordNotFound(word)
        return row


# --- the result ----------------------------------------------------------------------------------
@dataclass(eq=False)
class Resolution:
    """How each word was resolved.

    Attributes:
        words: the words asked, in order.
        steps: per word, the step that resolved it (``""`` where none did).
        parts: per word, the vector words whose rows make its vector (``(word,)`` for an exact
            hit, ``()`` for ``subword`` and unresolved words).
        rows: per word, the rows of ``parts``.
        subword: position -> vector, for the words the ``subword`` step resolved.
    """

    words: list[str]
    steps: list[str]
    parts: list[tuple[str, ...]]
    rows: list[tuple[int, ...]]
    subword: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def resolved(self) -> np.ndarray:
        """bool per word: some step resolved it."""
        return np.fromiter((bool(s) for s in self.steps), dtype=bool, count=len(self.steps))

    def counts(self) -> dict[str, int]:
        """Words per step, in chain order (steps that resolved nothing left out)."""
        tally: dict[str, int] = {}
        for s in self.steps:
            if s:
                tally[s] = tally.get(s, 0) + 1
        return {s: tally[s] for s in STEPS if s in tally}

    def vectors(self, vectors: Vectors, dim: int | None = None) -> np.ndarray:
        """float32 (len(words), dim): each word's vector, zeros where unresolved.

        One read of the rows needed (sorted, so a memory-mapped matrix is read in order); a
        single-row word gets that row bit for bit, a word of parts the mean of their rows.
        """
        dim = vectors.dim if dim is None else dim
        out = np.zeros((len(self.words), dim), dtype=np.float32)
        lengths = np.fromiter(map(len, self.rows), dtype=np.int64, count=len(self.rows))
        if lengths.any():
            flat = np.fromiter(itertools.chain.from_iterable(self.rows), dtype=np.int64,
                               count=int(lengths.sum()))
            needed, inverse = np.unique(flat, return_inverse=True)
            block = vectors.rows(needed)
            single = np.flatnonzero(lengths == 1)
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
            out[single] = block[inverse[starts[single]]]
            multi = np.flatnonzero(lengths > 1)
            if len(multi):
                pick = np.concatenate([np.arange(starts[i], starts[i] + lengths[i])
                                       for i in multi])
                sums = np.add.reduceat(block[inverse[pick]].astype(np.float64),
                                       np.concatenate(([0], np.cumsum(lengths[multi])[:-1])))
                out[multi] = (sums / lengths[multi][:, None]).astype(np.float32)
        for i, vec in self.subword.items():
            out[i] = vec
        return out


# --- the chain -----------------------------------------------------------------------------------
class Chain:
    """The resolvers for one vector set, with their settings; :meth:`resolve` runs them.

    Args:
        vectors: the vector set.
        steps: the steps to run (any order; they run in :data:`STEPS` order, except that with
            a subword model ``subword`` runs before ``split`` and ``segment``: fastText's own
            vector for a string beats a guess from its parts); ``exact`` always runs.
            ``None``: :data:`DEFAULT_STEPS`.
        counts: word -> corpus frequency for segmentation; default: a Zipf law on row order.
        top: only the ``top`` most frequent words may be parts of a segmentation.
        single_letter_rank: a one-letter part must rank above this (``a`` is 7th, ``i`` 41st in
            GloVe 6B; ``s`` is 1,534th and never a part).
        two_letter_rank: a two-letter part must rank above this (``us``, ``im``; not ``lm``).
        max_parts: a word of more parts than this (a random id, a URL's hash) is not resolved.
        strip_accents: ``None``: strip accents only when the vectors hold no accented words.
    """

    def __init__(self, vectors: Vectors, steps: Iterable[str] | None = None, *,
                 counts: Mapping[str, int] | None = None, top: int = 100_000,
                 single_letter_rank: int = 100, two_letter_rank: int = 20_000,
                 max_parts: int = 5, strip_accents: bool | None = None) -> None:
        chosen = set(DEFAULT_STEPS if steps is None else steps)
        unknown = chosen - set(STEPS)
        if unknown:
            raise UsageError(f"unknown resolver step(s) {', '.join(map(repr, sorted(unknown)))};"
                             f" choose from {', '.join(STEPS)}")
        self.vectors = vectors
        order = STEPS
        if getattr(vectors, "subwords", None) is not None:
            # fastText's own vector for the string (what its model was trained to give) before
            # a guess from parts: split and segment only get what no n-gram covers
            order = ("exact", "case", "unicode", "subword", "split", "segment")
        self.steps = tuple(s for s in order if s in chosen or s == "exact")
        self.counts = counts
        self.top = top
        self.single_letter_rank = single_letter_rank
        self.two_letter_rank = two_letter_rank
        self.max_parts = max_parts
        self._segmenter: Segmenter | None = None
        self._seg: Segmenter | None = None
        self._ix = _index_of(vectors)
        self._rows = _Rows(vectors)
        self.strip_accents = (not self._ix.accented) if strip_accents is None else strip_accents

    @property
    def segmenter(self) -> Segmenter:
        """The segmentation index, built on first use and cached per vector set and settings."""
        from wordvecs.segment import Segmenter

        if self._segmenter is not None:
            return self._segmenter
        key = (self.top, self.single_letter_rank, self.two_letter_rank)
        seg = None if self.counts is not None else self._ix.segmenters.get(key)
        if seg is None:
            seg = Segmenter(self.vectors.words, top=self.top, counts=self.counts,
                            single_letter_rank=self.single_letter_rank,
                            two_letter_rank=self.two_letter_rank)
            if self.counts is None:  # cached per vector set; with counts, per chain
                self._ix.segmenters[key] = seg
        self._segmenter = seg
        return seg

    def resolve(self, words: Iterable[str]) -> Resolution:
        """Run the chain over ``words`` (each step sees only what the steps before it missed)."""
        words = list(words)
        n = len(words)
        steps = [""] * n
        parts: list[tuple[str, ...]] = [()] * n
        rows: list[tuple[int, ...]] = [()] * n
        res = Resolution(words, steps, parts, rows)
        hits = self.vectors.lookup(words)
        todo: list[int] = []
        for i, r in enumerate(hits.tolist()):
            if r >= 0:
                steps[i], parts[i], rows[i] = "exact", (words[i],), (r,)
            else:
                todo.append(i)
        index = self._rows
        for name in self.steps[1:]:
            if not todo:
                break
            if name == "subword":
                todo = self._subword(words, todo, res)
                continue
            if name == "segment":
                self._seg = self.segmenter
            step = getattr(self, "_" + name)
            left: list[int] = []
            for i in todo:
                found = step(words[i])
                if found is None:
                    left.append(i)
                else:
                    steps[i] = name
                    parts[i] = found
                    rows[i] = tuple([index[p] for p in found])
            todo = left
        return res

    # --- the steps: each maps one unresolved word to the vector words that make its vector ------
    def _known(self, word: str) -> str | None:
        """``word`` itself or its first case variant that the vectors hold."""
        index = self._rows
        if word in index:
            return word
        for form in case_variants(word, self._ix.cased):
            if form in index:
                return form
        return None

    def _case(self, word: str) -> tuple[str, ...] | None:
        index = self._rows
        for form in case_variants(word, self._ix.cased):
            if form in index:
                return (form,)
        return None

    def _unicode(self, word: str) -> tuple[str, ...] | None:
        if word.isascii():
            return None
        form = _unicode_form(word, self.strip_accents)
        if not form or form == word:
            return None
        hit = self._known(form)
        return None if hit is None else (hit,)

    def _piece(self, piece: str) -> str | None:
        hit = self._known(piece)
        if hit is None or not hit.isalpha():
            return hit
        rank = self._rows[hit]
        if len(hit) == 1 and rank >= self.single_letter_rank:
            return None  # 's' of "iphone6s" is no word
        if len(hit) == 2 and rank >= self.two_letter_rank:
            return None  # nor 'qx' of a random id
        return hit

    def _split(self, word: str) -> tuple[str, ...] | None:
        if "\ufffd" in word:  # a letter lost in decoding: its pieces are no words of it
            return None
        pieces = split_pieces(word)
        if not pieces or pieces == [word]:
            return None
        out = []
        for p in pieces:
            hit = self._piece(p)
            if hit is None:
                return None
            out.append(hit)
        return tuple(out) if len(out) <= self.max_parts else None

    def _segment(self, word: str) -> tuple[str, ...] | None:
        if "\ufffd" in word:
            return None
        seg = self._seg
        assert seg is not None  # set by resolve()
        out: list[str] = []
        segmented = False
        for p in split_pieces(word) or [word]:
            hit = self._piece(p)
            if hit is not None:
                out.append(hit)
                continue
            glued = seg.split(p)
            if glued is None:
                return None
            out.extend(glued)
            segmented = True
        return tuple(out) if segmented and len(out) <= self.max_parts else None

    def _subword(self, words: list[str], todo: list[int], res: Resolution) -> list[int]:
        model = getattr(self.vectors, "subwords", None)
        if model is None:
            return todo
        vecs, mask = model.word_vectors([words[i] for i in todo])
        left = []
        for k, i in enumerate(todo):
            if mask[k]:
                res.steps[i] = "subword"
                res.subword[i] = np.asarray(vecs[k], dtype=np.float32)
            else:
                left.append(i)
        return left


# --- what a person reads -------------------------------------------------------------------------
def describe(words: Sequence[str], steps: Sequence[str], parts: Sequence[tuple[str, ...]], *,
             policy: str = "zeros", counts: Mapping[str, int] | None = None,
             examples: int = 3, top: int = 10) -> dict[str, Any]:
    """Counts per step (the policy's name for unresolved words), examples, most frequent missing.

    Words are taken most frequent first when ``counts`` are given, else in the order given.
    """
    order = list(range(len(words)))
    if counts is not None:
        order.sort(key=lambda i: -int(counts.get(words[i], 0)))  # stable
    per_step: dict[str, int] = {}
    shown: dict[str, list[list[str]]] = {}
    missing: list[dict[str, Any]] = []
    for i in order:
        step = steps[i] or policy
        per_step[step] = per_step.get(step, 0) + 1
        if not steps[i]:
            if len(missing) < top:
                missing.append({"word": words[i], "count": None if counts is None
                                else int(counts.get(words[i], 0))})
        elif step != "exact":
            ex = shown.setdefault(step, [])
            if len(ex) < examples:
                ex.append([words[i], " + ".join(parts[i]) if parts[i] else step])
    names = [s for s in STEPS if s in per_step] + [s for s in per_step if s not in STEPS]
    return {"steps": {s: per_step[s] for s in names}, "examples": shown,
            "top_missing": missing}


def summary_lines(report: Mapping[str, Any], missing_total: int) -> list[str]:
    """The lines of :func:`describe`'s report: ``exact 6,808; case 410; ...``, examples, missing."""
    steps = report.get("steps", {})
    lines = ["by step: " + "; ".join(f"{s} {n:,}" for s, n in steps.items())] if steps else []
    for step, ex in report.get("examples", {}).items():
        lines.append(f"  {step}: " + ", ".join(f"{w} -> {p}" for w, p in ex))
    shown = report.get("top_missing", [])
    if shown:
        with_counts = shown[0]["count"] is not None
        label = "most frequent missing" if with_counts else "missing"
        words = ", ".join(m["word"] if m["count"] is None else f"{m['word']} ({m['count']:,})"
                          for m in shown)
        more = ", ..." if missing_total > len(shown) else ""
        lines.append(f"{label}: {words}{more}")
    return lines
