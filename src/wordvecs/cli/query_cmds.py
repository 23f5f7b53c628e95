"""``wordvecs similar``, ``analogy``, ``evaluate``, ``plot`` and ``export-projector``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from wordvecs.cli.common import quiet_option, vectors_option
from wordvecs.errors import UsageError, require

if TYPE_CHECKING:
    from wordvecs.vectors import Vectors

__all__ = ["register"]


def _load(source: str, quiet: bool = True) -> Vectors:
    import wordvecs

    return wordvecs.load(source, progress=False if quiet else None)


def _echo_neighbours(pairs: list[tuple[str, float]]) -> None:
    width = max((len(w) for w, _ in pairs), default=0)
    for word, score in pairs:
        click.echo(f"  {word:<{width}}  {score:.4f}")


@click.command()
@click.argument("words", nargs=-1, required=True)
@vectors_option()
@click.option("--topn", "-n", default=10, show_default=True, type=click.IntRange(min=1),
              help="Neighbours to show for each word.")
@click.option("--restrict-vocab", type=click.IntRange(min=1),
              help="Search only the first N words (the most frequent in most sets).")
def similar(words: tuple[str, ...], vectors: str, topn: int, restrict_vocab: int | None) -> None:
    """The nearest neighbours of each WORD (cosine), all words in one matrix product."""
    from wordvecs.similarity import normed, similar_by_vectors

    v = _load(vectors)
    if v.subwords is None:
        rows = [v.index(w) for w in words]  # an unknown word is a one-line error
        queries, exclude = normed(v)[rows], [[r] for r in rows]
    else:  # a fastText .bin: an unseen word gets its subword vector
        import numpy as np

        found = [None if i < 0 else int(i) for i in v.lookup(words)]  # a store: its index
        from wordvecs.errors import WordNotFound

        got = [v.get(w) for w in words]  # None: no row and no n-gram row (a pruned .ftz)
        for w, vec in zip(words, got):
            if vec is None:
                raise WordNotFound(w)  # its zero vector has no neighbours: one-line error
        vecs = np.stack(got)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        queries = vecs / np.where(norms > 0, norms, 1)
        exclude = [[r] if r is not None else [] for r in found]
    results = similar_by_vectors(v, queries, topn, restrict_vocab=restrict_vocab,
                                 exclude=exclude)
    for word, pairs in zip(words, results):
        click.echo(f"{word}:")
        _echo_neighbours(pairs)


@click.command()
@click.argument("a")
@click.argument("b")
@click.argument("c")
@vectors_option()
@click.option("--topn", "-n", default=5, show_default=True, type=click.IntRange(min=1),
              help="Answers to show.")
@click.option("--method", type=click.Choice(["add", "mul"]), default="add", show_default=True,
              help="3CosAdd (gensim's most_similar) or 3CosMul (most_similar_cosmul).")
def analogy(a: str, b: str, c: str, vectors: str, topn: int, method: str) -> None:
    """A is to B as C is to what? `wordvecs analogy man king woman` gives queen."""
    v = _load(vectors)
    answers = v.analogy(a, b, c, topn=topn, method=method)
    click.echo(f"{a} : {b} :: {c} : ?")
    _echo_neighbours(answers)


@click.command()
@click.argument("which", type=click.Choice(["analogies", "pairs", "all"]), default="all")
@vectors_option()
@click.option("--restrict-vocab", default=300000, show_default=True,
              type=click.IntRange(min=1), help="Only the first N words ask or answer.")
@click.option("--method", type=click.Choice(["add", "mul"]), default="add", show_default=True,
              help="Analogy scoring: 3CosAdd or 3CosMul.")
@click.option("--case-sensitive", is_flag=True, help="Do not upper-case words before matching.")
@click.option("--analogies-file", type=click.Path(exists=True, dir_okay=False),
              help="An analogy file instead of the bundled Google set.")
@quiet_option
def evaluate(which: str, vectors: str, restrict_vocab: int, method: str, case_sensitive: bool,
             analogies_file: str | None, quiet: bool) -> None:
    """Score vectors on the Google analogies and on WordSim-353 / SimLex-999, as gensim does."""
    from wordvecs import evaluate as ev

    v = _load(vectors, quiet)
    ci = not case_sensitive
    if which in ("analogies", "all"):
        res = ev.analogies(v, analogies_file, restrict_vocab=restrict_vocab, case_insensitive=ci,
                           method=method, progress=False if quiet else None)  # type: ignore[arg-type]
        width = max([len(s.name) for s in res.sections] + [14])
        click.echo(f"{'section':<{width}}  {'correct':>7}  {'total':>6}  {'accuracy':>8}  "
                   f"{'skipped':>7}")
        for s in res.sections:
            click.echo(f"{s.name:<{width}}  {s.correct:>7,}  {s.total:>6,}  {s.accuracy:>8.2%}  "
                       f"{s.skipped:>7,}")
        click.echo(f"{'Total accuracy':<{width}}  {res.correct:>7,}  {res.total:>6,}  "
                   f"{res.accuracy:>8.2%}  {res.skipped:>7,}")
    if which in ("pairs", "all"):
        if which == "all":
            click.echo()
        click.echo(f"{'pairs':<12}  {'pearson':>8}  {'spearman':>8}  {'pairs':>6}  {'oov':>6}")
        for name in ev.PAIR_SETS:
            r = ev.word_pairs(v, name, restrict_vocab=restrict_vocab, case_insensitive=ci)
            click.echo(f"{name:<12}  {r.pearson:>8.4f}  {r.spearman:>8.4f}  {r.pairs:>6,}  "
                       f"{r.oov_ratio:>5.1f}%")


@click.command()
@click.argument("words", nargs=-1, required=True)
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False),
              help="The image to write (PNG, SVG or PDF by extension).")
@vectors_option()
@click.option("--neighbours", "-n", default=0, show_default=True, type=click.IntRange(min=0),
              help="Also plot each word's N nearest neighbours (in grey).")
@click.option("--force", is_flag=True, help="Replace the image if it exists.")
def plot(words: tuple[str, ...], out: str, vectors: str, neighbours: int, force: bool) -> None:
    """A labelled 2-D PCA map of WORDS (and optionally their nearest neighbours).

    The folder of --out must exist; an existing image is replaced only with --force.
    """
    from wordvecs._atomic import check_destination
    from wordvecs.errors import WriteError
    from wordvecs.similarity import normed, similar_by_vectors

    require("matplotlib", "plot", load=False)  # before the vectors load
    if not Path(out).parent.is_dir():
        raise WriteError(f"cannot write {out}: the folder {Path(out).parent} does not exist "
                         "(create it first)")
    check_destination(Path(out), folder=False, overwrite=force)
    v = _load(vectors)
    rows = [v.index(w) for w in dict.fromkeys(words)]
    labels = [v.words[r] for r in rows]
    extra: list[str] = []
    if neighbours:
        found = similar_by_vectors(v, normed(v)[rows], neighbours, exclude=[[r] for r in rows])
        seen = set(labels)
        for pairs in found:
            for w, _ in pairs:
                if w not in seen:
                    seen.add(w)
                    extra.append(w)
    path = plot_words(v, labels, extra, Path(out), overwrite=force)
    click.echo(f"wrote {path} ({len(labels)} words, {len(extra)} neighbours)")


def plot_words(v: Vectors, words: list[str], neighbours: list[str], out: Path, *,
               overwrite: bool = False) -> Path:
    """Draw the PCA map of ``words`` (black) and ``neighbours`` (grey) to ``out`` (atomically;
    its folder must exist, an existing file is replaced only with ``overwrite``)."""
    matplotlib = require("matplotlib", "plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from wordvecs.similarity import normed

    allw = words + neighbours
    if len(allw) < 2:
        raise UsageError("plot needs at least two words (or --neighbours)")
    x = normed(v)[[v.index(w) for w in allw]].astype(np.float64)
    x -= x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    xy = x @ vt[:2].T
    fig, ax = plt.subplots(figsize=(8, 6), dpi=120)
    k = len(words)
    ax.scatter(xy[k:, 0], xy[k:, 1], s=14, c="0.6", label="neighbours")
    ax.scatter(xy[:k, 0], xy[:k, 1], s=30, c="tab:blue", label="words")
    for i, w in enumerate(allw):
        ax.annotate(w, xy[i], xytext=(4, 3), textcoords="offset points",
                    fontsize=10 if i < k else 8, color="black" if i < k else "0.35")
    ax.set_title(f"PCA of {len(allw)} word vectors ({v.dim}-d)")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.grid(alpha=0.3)
    if neighbours:
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    from wordvecs._atomic import atomic_file

    try:
        with atomic_file(out, overwrite=overwrite, make_parents=False) as tmp:
            fig.savefig(tmp, format=out.suffix[1:].lower() or "png")
    finally:
        plt.close(fig)
    return out


@click.command("export-projector")
@click.argument("source")
@click.option("--out", "-o", "out", required=True, type=click.Path(file_okay=False),
              help="Folder for vectors.tsv and metadata.tsv.")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N vectors.")
@click.option("--force", is_flag=True, help="Replace vectors.tsv and metadata.tsv if they exist.")
@quiet_option
def export_projector(source: str, out: str, limit: int | None, force: bool, quiet: bool) -> None:
    """Write SOURCE as the vectors.tsv + metadata.tsv pair TensorBoard's Embedding Projector opens.

    Load both at https://projector.tensorflow.org ("Load"), or point a TensorBoard
    projector_config.pbtxt at them. The folder of --out must exist (--out itself is made if
    missing); files already there are replaced only with --force.
    """
    import wordvecs

    projector_paths(Path(out), overwrite=force)  # before loading: a refusal costs nothing
    v = wordvecs.load(source, limit=limit, progress=False if quiet else None)
    vec_path, meta_path = export_projector_files(v, Path(out), overwrite=force)
    click.echo(f"wrote {len(v):,} vectors to {vec_path} and {meta_path}")


def projector_paths(out: Path, *, overwrite: bool = False) -> tuple[Path, Path]:
    """``out/vectors.tsv`` and ``out/metadata.tsv``, or a :class:`WriteError` if either may not be
    written (a link, a folder, a file there without ``overwrite``; ``out``'s own folder missing;
    ``out`` a file or a link)."""
    from wordvecs._atomic import check_destination
    from wordvecs.errors import WriteError

    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise WriteError(f"{out}: is not a folder; --out names the folder for vectors.tsv and "
                         "metadata.tsv")
    if not out.exists() and not out.absolute().parent.is_dir():
        raise WriteError(f"cannot write {out}: the folder {out.absolute().parent} does not exist "
                         "(wordvecs does not create it; create it first)")
    paths = out / "vectors.tsv", out / "metadata.tsv"
    for path in paths:
        check_destination(path, folder=False, overwrite=overwrite)
    return paths


def export_projector_files(v: Vectors, out: Path, *, overwrite: bool = False
                           ) -> tuple[Path, Path]:
    """Write ``vectors.tsv`` (tab-separated floats) and ``metadata.tsv`` (one word a line) into the
    folder ``out`` (made if missing, its own folder must exist), atomically: both are written
    under temporary names first, so a failure (a full disk) leaves both files as they were, not a
    new one beside an old one; a folder made for them is removed again. Files already there are
    replaced only with ``overwrite``, links never."""
    import numpy as np

    from wordvecs._atomic import atomic_file

    vec_path, meta_path = projector_paths(out, overwrite=overwrite)
    try:
        out.mkdir()
        made = True
    except FileExistsError:
        made = False
    step = 20000
    try:
        projector_paths(out, overwrite=overwrite)  # again: out may have been swapped meanwhile
        with atomic_file(vec_path, overwrite=overwrite, make_parents=False) as vec_tmp, \
                atomic_file(meta_path, overwrite=overwrite, make_parents=False) as meta_tmp:
            with open(vec_tmp, "w", encoding="utf-8") as fh:
                for start in range(0, len(v), step):
                    np.savetxt(fh, v.rows(np.arange(start, min(len(v), start + step))),
                               fmt="%.6g", delimiter="\t")
            with open(meta_tmp, "w", encoding="utf-8") as fh:
                for w in v.words:  # one column: no header line (the projector's rule)
                    fh.write(" ".join(w.split()) + "\n" if w.strip() else "<blank>\n")
    except BaseException:
        if made:
            try:
                out.rmdir()  # only if empty: never what another process put there
            except OSError:
                pass
        raise
    return vec_path, meta_path


def register(cli: click.Group) -> None:
    """Add this module's commands to the ``wordvecs`` group."""
    for command in (similar, analogy, evaluate, plot, export_projector):
        cli.add_command(command)
