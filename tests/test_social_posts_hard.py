"""make_hard_posts: seeded, the real set's class shares, 12% of the labels swapped, and no word
that gives the label away (the easy set of make_posts is decided by its templates)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from social_posts import NEG_ADJ, POS_ADJ, make_hard_posts, make_posts

N = 3000


@pytest.fixture(scope="module")
def posts() -> tuple[list[str], list[str], list[str]]:
    texts, labels = make_hard_posts(N, seed=0)
    clean_texts, clean = make_hard_posts(N, seed=0, noise=0)
    assert clean_texts == texts  # the label noise leaves the texts alone
    return texts, labels, clean


def test_deterministic_for_a_seed() -> None:
    assert make_hard_posts(200, seed=3) == make_hard_posts(200, seed=3)
    assert make_hard_posts(200, seed=3) != make_hard_posts(200, seed=4)
    assert make_hard_posts(50, seed=3)[0] == make_hard_posts(200, seed=3)[0][:50]


def test_make_posts_unchanged() -> None:
    """The easy set still starts as it did (tests and the posts benchmark use it)."""
    texts, labels = make_posts(3, seed=0)
    assert len(texts) == 3 and labels == make_posts(3, seed=0)[1]


def test_label_shares(posts: tuple[list[str], list[str], list[str]]) -> None:
    texts, labels, _ = posts
    assert len(texts) == len(labels) == N and all(texts)
    share = {k: v / N for k, v in Counter(labels).items()}
    assert set(share) == {"negative", "neutral", "positive"}
    assert 0.40 <= share["negative"] <= 0.46  # the majority class, as in the real set (0.427)
    assert min(share.values()) >= 0.20


def test_noise_rate(posts: tuple[list[str], list[str], list[str]]) -> None:
    _, labels, clean = posts
    rate = sum(a != b for a, b in zip(labels, clean)) / N
    assert 0.10 <= rate <= 0.15
    assert make_hard_posts(300, seed=1, noise=0)[1] != make_hard_posts(300, seed=1)[1]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9'#@]+", text.lower()))


def test_no_word_decides_the_label(posts: tuple[list[str], list[str], list[str]]) -> None:
    """The best rule "word w present: class a, else class b" is barely above the majority."""
    texts, labels, _ = posts
    total = Counter(labels)
    with_word: dict[str, Counter[str]] = {}
    for text, y in zip(texts, labels):
        for w in _words(text):
            with_word.setdefault(w, Counter())[y] += 1
    best = max(total.values()) / N
    for c in with_word.values():
        for a in total:
            for b in total:
                if a != b:
                    best = max(best, (c[a] + total[b] - c[b]) / N)
    assert best < 0.55, best  # 0.48 ("is": neutral, else negative), the majority 0.43


def test_open_vocabulary(posts: tuple[list[str], list[str], list[str]]) -> None:
    """Most sentiment adjectives are used, and a tenth of the posts misses many of them."""
    texts, _, _ = posts
    used = Counter(w for t in texts for w in _words(t) if w in set(POS_ADJ) | set(NEG_ADJ))
    assert len(used) > 0.9 * (len(POS_ADJ) + len(NEG_ADJ))
    sample = {w for t in texts[: N // 10] for w in _words(t)}
    unseen = sum(v for w, v in used.items() if w not in sample) / sum(used.values())
    assert unseen > 0.15, unseen  # 0.33
