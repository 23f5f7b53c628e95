"""``wordvecs distill``: static word vectors from a BERT-family transformer (model2vec's method)."""

from __future__ import annotations

from pathlib import Path

import click

from wordvecs.cli.common import not_utf8, quiet_option
from wordvecs.errors import FormatError, SourceError

__all__ = ["read_vocab_counts", "register"]


def read_vocab_counts(path: str | Path) -> tuple[list[str], dict[str, float] | None]:
    """Words of a vocabulary file, one a line, most frequent first; ``word<TAB>count`` lines give
    counts (then every line must have one). Blank lines are skipped."""
    words: list[str] = []
    counts: dict[str, float] = {}
    with_counts: bool | None = None
    try:
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                word, tab, count = line.partition("\t")
                if with_counts is None:
                    with_counts = bool(tab)
                if bool(tab) != with_counts:
                    raise FormatError(path, line=n, expected="word<TAB>count on every line"
                                      if with_counts else "one word a line, as on line 1",
                                      found=repr(line[:60]))
                if not word.strip():
                    raise FormatError(path, line=n, expected="a word", found="an empty word")
                if tab:
                    try:
                        value = float(count)
                    except ValueError:
                        value = -1.0
                    if not value >= 0 or value == float("inf"):
                        raise FormatError(path, line=n, expected="a count >= 0 after the tab",
                                          found=repr(count[:30]))
                    counts[word] = counts.get(word, 0.0) + value
                words.append(word)
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    return words, (counts if with_counts else None)


@click.command()
@click.argument("model")
@click.option("--vocab", "vocab_file", type=click.Path(exists=True, dir_okay=False),
              help="Words to distill, one a line, most frequent first (word<TAB>count lines "
                   "give real frequencies for SIF). Default: the model's own tokens.")
@click.option("--out", "-o", "out", required=True, type=click.Path(path_type=Path),
              help="Where to write the vectors (a store, NAME.wv, unless --to says otherwise).")
@click.option("--to", "to", default="store", show_default=True,
              type=click.Choice(["store", "glove", "word2vec", "word2vec-binary"]),
              help="The format to write.")
@click.option("--pca-dims", default=256, show_default=True, type=click.IntRange(0),
              help="Dimensions after PCA (0: no PCA).")
@click.option("--sif", default=1e-4, show_default=True, type=click.FloatRange(0, 1),
              help="SIF coefficient a of a / (a + p) (0: no weighting).")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1),
              help="Sequences per call of the encoder.")
@click.option("--force", "-f", is_flag=True, help="Replace --out if it exists.")
@quiet_option
def distill(model: str, vocab_file: str | None, out: Path, to: str, pca_dims: int, sif: float,
            batch_size: int, force: bool, quiet: bool) -> None:
    """Distill static word vectors from MODEL: "minilm" or a folder of the Hugging Face layout
    (config.json, model.safetensors, tokenizer.json) of a BERT-family encoder."""
    import time

    import wordvecs

    if out.exists() and not force:
        raise SourceError(f"{out}: exists; pass --force to replace it")
    words, counts = read_vocab_counts(vocab_file) if vocab_file else (None, None)
    from wordvecs.cli.train_cmds import quiet_keras

    quiet_keras()
    t0 = time.perf_counter()
    v = wordvecs.distill(model, words, counts=counts, pca_dims=pca_dims or None,
                         sif=sif or None, batch_size=batch_size,
                         progress=False if quiet else None)
    seconds = time.perf_counter() - t0
    v.save(out, format=to, overwrite=force, progress=False if quiet else None)
    click.echo(f"wrote {out}: {len(v):,} x {v.dim} ({to}), distilled from {model} in "
               f"{seconds:.1f} s ({len(v) / seconds:,.0f} words/s)")


def register(cli: click.Group) -> None:
    """Add ``distill``."""
    cli.add_command(distill)
