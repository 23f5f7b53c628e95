"""The unseen-word chain on GloVe 6B 50d: coverage per step on posts, speed, frozen accuracy.

    python benchmarks/bench_chain.py [--words 100000] [--accuracy] [--repeat 3]

1. Coverage: the vocabulary of 6,000 generated social-media posts (tests/social_posts.py: real
   airline and brand handles, glued hashtags, emoji, elongations...), tokenized by the standard
   and by the ``social`` tokenizer, looked up exactly + lowercase (what gensim and torchtext
   offer) and through the whole chain; words per step.
2. Speed: ``--words`` vocabulary words through the whole chain (75% GloVe words, 5% case
   variants, 5% hyphen/underscore/digit compounds, 10% glued pairs of frequent words, 5% random
   strings that no step resolves: the slowest path), cold (the segmentation index built) and
   warm (cached per Vectors), against the exact + lowercase lookup of the same words.
3. ``--accuracy``: frozen-mode test accuracy of ``wordvecs train``'s CNN on the posts with the
   chain and with exact + lowercase only (Keras; a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import wordvecs
from wordvecs.resolve import Chain
from wordvecs.text.datasets import tokenize
from wordvecs.text.social import tokenize as social_tokenize


def stage(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def coverage(v: wordvecs.Vectors) -> None:
    from social_posts import make_posts

    texts, _ = make_posts(6000)
    print("coverage of the vocabulary of 6,000 posts (GloVe 6B 50d):")
    for name, tok in (("standard", tokenize), ("social", social_tokenize)):
        counts = Counter(t for text in texts for t in tok(text))
        words = list(counts)
        base = Chain(v, ["case"]).resolve(words)
        full = Chain(v).resolve(words)
        b, f = base.resolved.mean(), full.resolved.mean()
        tokens = sum(counts.values())
        ftok = sum(counts[w] for w, s in zip(words, full.steps) if s) / tokens
        btok = sum(counts[w] for w, s in zip(words, base.steps) if s) / tokens
        steps = "; ".join(f"{s} {n:,}" for s, n in full.counts().items())
        print(f"  {name:8s} tokenizer: {len(words):,} words; exact+lowercase {b:.1%} -> chain "
              f"{f:.1%} (+{100 * (f - b):.1f} points); tokens {btok:.1%} -> {ftok:.1%}")
        print(f"           by step: {steps}; missing {len(words) - int(full.resolved.sum()):,}")


def vocabulary(v: wordvecs.Vectors, n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = v.words
    top = words[:50_000]
    out: dict[str, None] = {}

    def add(k: int, make) -> None:  # type: ignore[no-untyped-def]
        goal = len(out) + k
        while len(out) < goal:
            out[make()] = None

    add(int(n * 0.75), lambda: words[min(int(rng.paretovariate(0.6)) - 1, 199_999)]
        if rng.random() < 0.5 else words[rng.randrange(200_000)])
    add(int(n * 0.05), lambda: rng.choice([str.title, str.upper])(rng.choice(top)))
    add(int(n * 0.05), lambda: rng.choice(top) + rng.choice("-_") + rng.choice(top)
        if rng.random() < 0.7 else rng.choice(top) + str(rng.randrange(1990, 2020)))
    add(int(n * 0.10), lambda: rng.choice(top) + rng.choice(top))
    add(n - len(out), lambda: "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789",
                                                  k=rng.randint(5, 14))))
    return list(out)


def _timed(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall, CPU) seconds: on a shared machine the CPU time of this process is the fairer one."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def speed(v: wordvecs.Vectors, n: int, repeat: int) -> None:
    words = vocabulary(v, n)
    _ = v.key_to_index  # the word index every lookup needs (0.4 s), built before timing
    out: list = []
    cold = _timed(lambda: out.append(Chain(v).resolve(words)))
    res = out[0]
    warm = [_timed(lambda: Chain(v).resolve(words)) for _ in range(repeat)]
    base = [_timed(lambda: Chain(v, ["case"]).resolve(words)) for _ in range(repeat)]
    gather = _timed(lambda: res.vectors(v))
    wall, cpu = (statistics.median(x) for x in zip(*warm))
    bwall, bcpu = (statistics.median(x) for x in zip(*base))
    steps = "; ".join(f"{s} {k:,}" for s, k in res.counts().items())
    print(f"{len(words):,} vocabulary words through the whole chain ({steps}; "
          f"missing {len(words) - int(res.resolved.sum()):,}):")
    table = len(Chain(v).segmenter)
    print(f"  cold (segmentation index of {table:,} words built): {cold[0]:.2f} s wall, "
          f"{cold[1]:.2f} s CPU")
    print(f"  warm: {wall:.2f} s wall, {cpu:.2f} s CPU (median of {repeat}); exact + lowercase "
          f"only: {bwall:.2f} s wall, {bcpu:.2f} s CPU; ratio {cpu / bcpu:.1f}x (CPU)")
    print(f"  the rows (means of parts) gathered in {gather[0]:.2f} s wall, {gather[1]:.2f} s CPU")


def accuracy(v: wordvecs.Vectors) -> None:
    from social_posts import make_posts
    from wordvecs import matrix
    from wordvecs.text.datasets import TextData
    from wordvecs.training.train import TrainConfig, run_experiment

    texts, labels = make_posts(6000)
    data = TextData(texts, labels, "memory", "social_posts.make_posts(6000)")
    real = matrix.build_matrix
    print("frozen-mode test accuracy on the posts (CNN, seed 0):")
    for label, fallback in (("exact + lowercase", ["case"]), ("whole chain", None)):
        def patched(*args, _fb=fallback, **kwargs):  # type: ignore[no-untyped-def]
            return real(*args, fallback=_fb, **kwargs)

        matrix.build_matrix = patched
        try:
            for tok in ("standard", "social"):
                stage(f"training: {label}, {tok} tokenizer")
                exp = run_experiment(data, v, TrainConfig(modes=("frozen",), tokenizer=tok),
                                     progress=False)
                run = exp.runs[0]
                print(f"  {label:18s} {tok:8s}: accuracy {run.test_accuracy:.3f}, macro-F1 "
                      f"{run.macro_f1:.3f}, vocabulary coverage {exp.coverage['coverage']:.1%}")
        finally:
            matrix.build_matrix = real


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--accuracy", action="store_true")
    args = ap.parse_args()
    stage("loading GloVe 6B 50d")
    v = wordvecs.load("glove-6b-50d")
    stage("speed")
    speed(v, args.words, args.repeat)
    stage("coverage")
    coverage(v)
    if args.accuracy:
        accuracy(v)


if __name__ == "__main__":
    main()
