"""Segmentation of glued words (``americanair`` -> ``american air``) into words a vector set knows.

The most probable split is found by dynamic programming (Viterbi) over the string: each word has a
cost ``-log p(word)`` and the split of least total cost wins. ``p`` comes from a Zipf law on the
vectors' own row order (GloVe, word2vec and fastText files list words by falling frequency:
``p(rank r) = 1 / ((r + 1) * ln N)``, the estimate wordninja uses) or from explicit ``counts``.

The dictionary is a *length-bounded prefix table* of the ``top`` most frequent words: one dict
maps every word to its cost and every proper prefix of a word to ``inf``, so extending a candidate
part stops at the first string that starts no word (one dict lookup per character tried).

What may be a part: a word of letters only, of at most ``max_len`` characters,
among the ``top`` most frequent; a single character only if its rank is below
``single_letter_rank`` (``a`` and ``i`` in GloVe), two letters only if below ``two_letter_rank``
(``us``, ``im`` but not ``lm`` + ``ao`` for ``lmao``). Ties keep the first split found, so the
result is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["Segmenter"]

_INF = math.inf


class Segmenter:
    """The split of least cost of a string into known words; built once per vector set.

    Keys are lowercased (the segmentation is case-insensitive); each key maps back to the most
    frequent original spelling, so the parts are words of the vector set as they are spelled
    there.
    """

    def __init__(
        self,
        words: Sequence[str],
        *,
        top: int = 100_000,
        max_len: int = 20,
        single_letter_rank: int = 100,
        two_letter_rank: int = 20_000,
        counts: Mapping[str, int] | None = None,
    ) -> None:
        self.top = top
        self.max_len = max_len
        self.single_letter_rank = single_letter_rank
        table: dict[str, float] = {}
        original: dict[str, str] = {}
        if counts is not None:
            ranked = sorted(((int(c), w) for w, c in counts.items() if int(c) > 0),
                            key=lambda cw: -cw[0])  # stable: ties keep the mapping's order
            total = float(sum(c for c, _ in ranked)) or 1.0
            candidates = [(w, -math.log(c / total)) for c, w in ranked[:top]]
        else:
            n = min(len(words), top)
            log_n = math.log(max(n, 2))
            candidates = [(w, math.log((r + 1) * log_n)) for r, w in enumerate(words[:n])]
        for rank, (word, cost) in enumerate(candidates):
            if len(word) > max_len or not word.isalpha():
                continue
            if len(word) == 1 and rank >= single_letter_rank:
                continue
            if len(word) == 2 and rank >= two_letter_rank:
                continue
            key = word.lower()
            if key in original:  # a less frequent case variant: the first spelling wins
                continue
            original[key] = word
            table[key] = cost
            for k in range(1, len(key)):
                table.setdefault(key[:k], _INF)
        self._table = table
        self._original = original

    def __len__(self) -> int:
        return len(self._original)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.lower() in self._original

    def cost(self, word: str) -> float:
        """``-log p(word)``; ``inf`` for a word that may not be a part."""
        return self._table.get(word.lower(), _INF)

    def split(self, text: str) -> tuple[str, ...] | None:
        """The parts of least total cost (as the vector set spells them), or ``None``.

        ``None`` when no split into allowed parts covers the whole of ``text``, when ``text``
        is itself a word of the table (a known word is never split) or holds a non-letter.
        """
        s = text.lower()
        n = len(s)
        if n < 2 or s in self._original or not s.isalpha():  # a known word is never split;
            return None  # numbers are not glued words (2489 is no 24 + 89)
            return None
        get = self._table.get
        max_len = self.max_len
        inf = _INF
        best = [inf] * (n + 1)
        back = [0] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            base = best[i]
            if base == inf:
                continue
            for j in range(i + 1, (i + max_len if i + max_len < n else n) + 1):
                c = get(s[i:j])
                if c is None:  # s[i:j] starts no word: no longer part starts here either
                    break
                if c != inf and base + c < best[j]:  # strict: ties keep the first split found
                    best[j] = base + c
                    back[j] = i
        if best[n] == _INF:
            return None
        parts: list[str] = []
        j = n
        while j > 0:
            i = back[j]
            parts.append(self._original[s[i:j]])
            j = i
        if len(parts) < 2:
            return None
        parts.reverse()
        return tuple(parts)
