"""fastText .bin benchmark: wordvecs.load against gensim's load_facebook_vectors, side by side.

    python benchmarks/bench_fasttext.py [--words 200000] [--bucket 2000000] [--dim 100] [--repeat 3]
    python benchmarks/bench_fasttext.py --one-only [--repeat 3]

Makes its input once under ``benchmarks/data/`` (kept between runs): a seeded text of made-up
words, on which fasttext-modern trains a skipgram model (one epoch, ``dim`` 100, 2M buckets: a
``.bin`` of about 1 GB). Each contender runs in its own interpreter: the time to open the file
(imports excluded), the resident memory after opening and the peak, the vectors of 20,000 unseen
words (words per second: cold, right after opening, when the mapped table's pages are first read,
and warm: the best of 5 runs over the same words), and a check that the vectors agree with
fastText's own. gensim's warm rate (the best of 5 runs over 2,000 of the words) is its only rate:
it reads the whole table at open.

The one-word-at-a-time row is what a program that asks ``v[word]`` in a loop sees: a fresh
interpreter opens the file and looks up the 20,000 unseen words one call each (``v[w]``,
gensim's ``kv[w]``), timed from before the open to after the last word; the two contenders run in
turn ``--repeat`` times (min and median of each, the ratios of both), and the first 500 of
wordvecs' vectors, asked one at a time, are checked bit for bit against fastText's.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
UNSEEN = 20_000
REPEAT = 5


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _best(run: Callable[[], object], repeat: int = REPEAT) -> float:
    """The fastest of ``repeat`` timed runs, in seconds (as timeit advises: the others measure
    what else the machine was doing)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return min(times)


def make_model(words: int, bucket: int, dim: int) -> Path:
    """Train (once) a skipgram model on a seeded made-up corpus; return the .bin path."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"ft-{words}w-{bucket}b-{dim}d.bin"
    if path.exists():
        return path
    rng = random.Random(0)
    letters = "abcdefghijklmnopqrstuvwxyzéü"
    vocab = sorted({"".join(rng.choice(letters) for _ in range(rng.randint(3, 12)))
                    for _ in range(words * 2)})[:words]
    corpus = DATA / f"corpus-{words}.txt"
    with open(corpus, "w", encoding="utf-8") as fh:
        line: list[str] = []
        for _ in range(6):  # every word at least 6 times: above minCount 5
            order = vocab[:]
            rng.shuffle(order)
            for w in order:
                line.append(w)
                if len(line) == 20:
                    fh.write(" ".join(line) + "\n")
                    line = []
    import fasttext

    print(f"training {path.name} (once) ...", file=sys.stderr)
    for k in range(20):
        try:
            m = fasttext.train_unsupervised(str(corpus), dim=dim, epoch=1, bucket=bucket,
                                            thread=2, verbose=0, minCount=5, lr=0.05 + 0.001 * k)
            break
        except RuntimeError:  # fasttext-modern's random "Encountered NaN": try again
            continue
    tmp = path.with_suffix(".tmp")
    m.save_model(str(tmp))
    tmp.rename(path)
    return path


def _unseen_words(n: int) -> list[str]:
    rng = random.Random(1)
    return ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(5, 12)))
            + "zq" for _ in range(n)]


def run_wordvecs(path: str) -> dict[str, float]:
    import numpy as np

    import wordvecs

    before = _rss_mb()
    t = time.perf_counter()
    v = wordvecs.load(path)
    open_s = time.perf_counter() - t
    rss_open, peak_open = _rss_mb() - before, _peak_mb()
    words = _unseen_words(UNSEEN)
    t = time.perf_counter()
    vecs, _mask = v.subwords.word_vectors(words)  # cold: the table's pages are faulted in
    cold_s = time.perf_counter() - t
    warm_s = _best(lambda: v.subwords.word_vectors(words[::-1]))  # the same rows, now mapped
    np.save(DATA / "wordvecs-unseen.npy", vecs[:500])
    t = time.perf_counter()
    _ = v.matrix
    matrix_s = time.perf_counter() - t
    return {"open_s": open_s, "rss_after_open_mb": rss_open, "peak_open_mb": peak_open,
            "unseen_per_s": UNSEEN / cold_s, "warm_per_s": UNSEEN / warm_s,
            "vocab_matrix_s": matrix_s, "peak_mb": _peak_mb()}


def run_gensim(path: str) -> dict[str, float]:
    import numpy as np
    from gensim.models.fasttext import load_facebook_vectors

    before = _rss_mb()
    t = time.perf_counter()
    kv = load_facebook_vectors(path)
    open_s = time.perf_counter() - t
    rss_open = _rss_mb() - before
    words = _unseen_words(UNSEEN)[:2000]  # gensim is slow: time a tenth
    vecs = np.array([kv[w] for w in words])
    unseen_s = _best(lambda: [kv[w] for w in words])
    np.save(DATA / "gensim-unseen.npy", vecs[:500])
    return {"open_s": open_s, "rss_after_open_mb": rss_open, "peak_open_mb": _peak_mb(),
            "unseen_per_s": len(words) / unseen_s, "warm_per_s": len(words) / unseen_s}


def run_one_at_a_time(who: str, path: str) -> dict[str, float]:
    """Open, then every unseen word by itself (``v[w]`` / ``kv[w]``): the seconds of both."""
    import numpy as np

    words = _unseen_words(UNSEEN)
    if who == "wordvecs":
        import wordvecs

        t = time.perf_counter()
        v = wordvecs.load(path)
        opened = time.perf_counter()
        vecs = [v[w] for w in words]
    else:
        from gensim.models.fasttext import load_facebook_vectors

        t = time.perf_counter()
        kv = load_facebook_vectors(path)
        opened = time.perf_counter()
        vecs = [kv[w] for w in words]
    done = time.perf_counter()
    np.save(DATA / f"{who}-one-unseen.npy", np.array(vecs[:500]))
    return {"total_s": done - t, "open_s": opened - t, "words_s": done - opened}


def one_at_a_time(path: Path, repeat: int) -> list[str]:
    """The one-word-at-a-time row, each contender in its own interpreter, in turn."""
    import statistics

    import numpy as np

    runs: dict[str, list[dict[str, float]]] = {"wordvecs": [], "gensim": []}
    for _ in range(repeat):
        for who in runs:
            runs[who].append(_child(f"{who}-one", str(path)))

    def pick(who: str, key: str, how: Callable[[list[float]], float]) -> float:
        return how([r[key] for r in runs[who]])

    out = [f"open + {UNSEEN:,} unseen words one at a time (v[w] / kv[w]), {repeat} runs each:",
           f"{'':26}{'wordvecs':>12}{'gensim':>12}{'ratio':>10}"]
    for how, name in ((min, "min"), (statistics.median, "median")):
        for key, label in (("total_s", "total (s)"), ("open_s", "  open (s)"),
                           ("words_s", "  words (s)")):
            w, g = pick("wordvecs", key, how), pick("gensim", key, how)
            out.append(f"{label + ', ' + name:26}{w:>12,.3f}{g:>12,.3f}{g / w:>9.1f}x")
        w = pick("wordvecs", "words_s", how)
        out.append(f"{'  us a word, ' + name:26}{1e6 * w / UNSEEN:>12,.1f}"
                   f"{1e6 * pick('gensim', 'words_s', how) / UNSEEN:>12,.1f}")
    import fasttext

    m = fasttext.load_model(str(path))
    ref = np.array([m.get_word_vector(x) for x in _unseen_words(500)])
    exact = np.array_equal(np.load(DATA / "wordvecs-one-unseen.npy"), ref)
    out.append(f"one at a time vs fastText's get_word_vector: wordvecs bit-exact={exact}")
    return out


def _child(who: str, path: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", who, path], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--words", type=int, default=200_000)
    ap.add_argument("--bucket", type=int, default=2_000_000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3, help="runs of the one-at-a-time row")
    ap.add_argument("--one-only", action="store_true", help="only the one-at-a-time row")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        who, path = args.child
        if who.endswith("-one"):
            print(json.dumps(run_one_at_a_time(who[:-4], path)))
        else:
            print(json.dumps((run_wordvecs if who == "wordvecs" else run_gensim)(path)))
        return
    path = make_model(args.words, args.bucket, args.dim)
    size_mb = path.stat().st_size / 2**20
    print(f"{path.name}: {size_mb:,.0f} MB")
    if args.one_only:
        print("\n".join(one_at_a_time(path, args.repeat)))
        return
    w = _child("wordvecs", str(path))
    g = _child("gensim", str(path))
    import fasttext
    import numpy as np

    m = fasttext.load_model(str(path))
    ref = np.array([m.get_word_vector(x) for x in _unseen_words(500)])
    exact = np.array_equal(np.load(DATA / "wordvecs-unseen.npy"), ref)
    gdiff = float(np.abs(np.load(DATA / "gensim-unseen.npy") - ref).max())
    rows = [("open (s)", "open_s", True), ("RSS after open (MB)", "rss_after_open_mb", True),
            ("peak RSS at open (MB)", "peak_open_mb", True),
            ("unseen words/s, cold", "unseen_per_s", False),
            ("unseen words/s, warm", "warm_per_s", False)]
    print(f"{'':26}{'wordvecs':>12}{'gensim':>12}{'ratio':>10}")
    for label, key, lower_better in rows:
        ratio = g[key] / w[key] if lower_better else w[key] / g[key]
        print(f"{label:26}{w[key]:>12,.2f}{g[key]:>12,.2f}{ratio:>9.1f}x")
    print(f"wordvecs RSS after open: {w['rss_after_open_mb'] / size_mb:.1%} of the file")
    print(f"wordvecs: all {args.words:,} vocabulary rows on first use: "
          f"{w['vocab_matrix_s']:.2f} s (peak RSS then {w['peak_mb']:,.0f} MB, the mapped table "
          "included)")
    print(f"unseen vectors vs fastText's get_word_vector: wordvecs bit-exact={exact}, "
          f"gensim max |diff|={gdiff:.2g}")
    print("\n".join(one_at_a_time(path, args.repeat)))


if __name__ == "__main__":
    main()
