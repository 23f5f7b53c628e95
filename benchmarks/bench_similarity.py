"""Side by side with gensim 4.4: the Google analogy evaluation, most_similar latency, batched
queries, ANN recall.

    python benchmarks/bench_similarity.py [--ann-rows 100000] [--queries 1000] [--skip-gensim]
    python benchmarks/bench_similarity.py --batch-only [--batch-queries 1000] [--repeat 3]

Prints gensim vs wordvecs seconds and the ratio for the full analogy evaluation of GloVe 6B 50d
(restrict_vocab=300000), the warm latency of one most_similar over a 400,000 x 300 random matrix,
the neighbours (topn 10) of 1,000 seeded GloVe words in one ``most_similar_batch`` call against
gensim's loop of ``most_similar(word)`` over a KeyedVectors of the same arrays (both warm, run in
turn ``--repeat`` times: wall and CPU seconds, min and median, the ratios, and whether every
neighbour list is the same), and recall@10 of the usearch HNSW index against the exact answer.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import wordvecs
from wordvecs import evaluate
from wordvecs.similarity import ApproximateIndex, normed


def stage(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def bench_analogies(skip_gensim: bool) -> list[tuple[str, str, str, str]]:
    stage("loading GloVe 6B 50d")
    v = wordvecs.load("glove-6b-50d")
    _ = v.matrix, v.words
    path = str(evaluate.data_path("google"))
    stage("wordvecs.evaluate.analogies (full Google set, restrict_vocab=300000)")
    t = time.perf_counter()
    ours = evaluate.analogies(v, progress=True)  # includes building the normalised matrix
    t_ours = time.perf_counter() - t
    rows = [("analogies: wordvecs", f"{t_ours:.2f} s",
             f"{ours.correct:,}/{ours.total:,} = {ours.accuracy:.2%}", f"skipped {ours.skipped}")]
    if not skip_gensim:
        from gensim.models import KeyedVectors

        kv = KeyedVectors(v.dim)
        kv.add_vectors(v.words, v.matrix)
        stage("gensim KeyedVectors.evaluate_word_analogies (same file, same vectors)")
        t = time.perf_counter()
        score, sections = kv.evaluate_word_analogies(path, restrict_vocab=300000)
        t_gensim = time.perf_counter() - t
        total = sections[-1]
        g_correct = len(total["correct"])
        g_total = g_correct + len(total["incorrect"])
        same = all(len(s["correct"]) == o.correct for s, o in zip(sections, ours.sections))
        rows.insert(0, ("analogies: gensim 4.4", f"{t_gensim:.2f} s",
                        f"{g_correct:,}/{g_total:,} = {score:.2%}",
                        f"per-section counts equal: {same}"))
        rows.append(("analogies: speed-up", f"{t_gensim / t_ours:.1f}x", "", ""))
    return rows


def bench_latency() -> list[tuple[str, str, str, str]]:
    stage("most_similar over a random 400,000 x 300 matrix")
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(400_000)]
    v = wordvecs.Vectors(words, rng.standard_normal((400_000, 300), dtype=np.float32))
    t = time.perf_counter()
    normed(v)
    t_norm = time.perf_counter() - t
    v.most_similar("w0")
    times = []
    for i in range(50):
        t = time.perf_counter()
        v.most_similar(words[i * 7919 % 400_000], topn=10)
        times.append(time.perf_counter() - t)
    med, best = statistics.median(times) * 1e3, min(times) * 1e3
    return [("most_similar 400k x 300 (warm)", f"{med:.1f} ms median", f"{best:.1f} ms best",
             f"normalise once: {t_norm:.2f} s")]


def _timed(run: object) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = run()  # type: ignore[operator]
    return time.perf_counter() - wall, time.process_time() - cpu, out


def bench_batch(queries: int, repeat: int, skip_gensim: bool) -> list[tuple[str, str, str, str]]:
    """``most_similar_batch`` of ``queries`` words against gensim's loop of single calls."""
    from gensim.models import KeyedVectors

    stage(f"most_similar_batch of {queries:,} GloVe 6B 50d words (topn 10)")
    v = wordvecs.load("glove-6b-50d")
    rng = np.random.default_rng(0)
    words = [v.words[i] for i in rng.choice(len(v), size=queries, replace=False)]
    v.most_similar_batch(words[:2])  # warm: the unit matrix and the norms, made once
    kv = None
    if not skip_gensim:
        kv = KeyedVectors(v.dim)
        kv.add_vectors(v.words, np.asarray(v.matrix))
        kv.most_similar(words[0])  # warm: gensim's norms
    ours_t: list[tuple[float, float]] = []
    theirs_t: list[tuple[float, float]] = []
    ours = theirs = None
    for _ in range(repeat):  # in turn, so that both see the same machine
        wall, cpu, ours = _timed(lambda: v.most_similar_batch(words, topn=10))
        ours_t.append((wall, cpu))
        if kv is not None:
            wall, cpu, theirs = _timed(lambda: [kv.most_similar(w, topn=10) for w in words])
            theirs_t.append((wall, cpu))

    def fmt(ts: list[tuple[float, float]], k: int) -> str:
        xs = [t[k] for t in ts]
        return f"{min(xs):.2f} s min / {statistics.median(xs):.2f} s median"

    rows = [(f"most_similar_batch, {queries:,} words: wordvecs", fmt(ours_t, 0), fmt(ours_t, 1),
             "wall / CPU")]
    if kv is not None:
        assert ours is not None and theirs is not None
        same = all([w for w, _ in a] == [w for w, _ in b] for a, b in zip(ours, theirs))
        diff = max(abs(x[1] - y[1]) for a, b in zip(ours, theirs) for x, y in zip(a, b))
        rows.insert(0, (f"loop of most_similar, {queries:,} words: gensim 4.4", fmt(theirs_t, 0),
                        fmt(theirs_t, 1), "wall / CPU"))

        def ratio(k: int, pick: object) -> str:
            g = pick([t[k] for t in theirs_t])  # type: ignore[operator]
            o = pick([t[k] for t in ours_t])  # type: ignore[operator]
            return f"{g / o:.1f}x"

        rows.append(("most_similar_batch: speed-up",
                     f"{ratio(0, min)} min / {ratio(0, statistics.median)} median (wall)",
                     f"{ratio(1, min)} min / {ratio(1, statistics.median)} median (CPU)",
                     f"identical neighbours: {same}; max |score diff| {diff:.1g}"))
    return rows


def bench_ann(rows: int, queries: int) -> list[tuple[str, str, str, str]]:
    stage(f"usearch HNSW index over {rows:,} GloVe 50d vectors")
    v = wordvecs.load("glove-6b-50d", limit=rows)
    unit = normed(v)
    t = time.perf_counter()
    index = ApproximateIndex.build(v)
    t_build = time.perf_counter() - t
    rng = np.random.default_rng(0)
    q_rows = rng.choice(len(v), size=queries, replace=False)
    stage(f"recall@10 of {queries:,} queries against the exact answer")
    t = time.perf_counter()
    exact = np.empty((queries, 11), dtype=np.int64)
    for s in range(0, queries, 256):
        scores = unit[q_rows[s:s + 256]] @ unit.T
        part = np.argpartition(-scores, 11, axis=1)[:, :11]
        order = np.argsort(-np.take_along_axis(scores, part, 1), axis=1)
        exact[s:s + 256] = np.take_along_axis(part, order, 1)
    t_exact = (time.perf_counter() - t) / queries
    t = time.perf_counter()
    approx = index.search_many(unit[q_rows], 11)
    t_approx = (time.perf_counter() - t) / queries
    hits = 0
    for r, e, a in zip(q_rows, exact, approx):
        e10 = [x for x in e if x != r][:10]
        a10 = [x for x in a if x != r][:10]
        hits += len(set(e10) & set(a10))
    recall = hits / (10 * queries)
    return [("ANN (usearch HNSW) recall@10", f"{recall:.3f}", f"{t_approx * 1e3:.2f} ms/query",
             f"exact batched {t_exact * 1e3:.2f} ms/query; build {t_build:.1f} s")]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ann-rows", type=int, default=100_000)  # the figure in docs/benchmarks.md
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--skip-gensim", action="store_true")
    p.add_argument("--batch-queries", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=3, help="runs of the batched-queries row")
    p.add_argument("--batch-only", action="store_true", help="only the batched-queries row")
    args = p.parse_args()
    if args.batch_only:
        rows = bench_batch(args.batch_queries, args.repeat, args.skip_gensim)
    else:
        rows = bench_analogies(args.skip_gensim)
        rows += bench_latency()
        rows += bench_batch(args.batch_queries, args.repeat, args.skip_gensim)
        rows += bench_ann(args.ann_rows, args.queries)
    print("| measure | value | | |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
