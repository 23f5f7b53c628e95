"""``wordvecs info`` and ``wordvecs convert``."""

from __future__ import annotations

from pathlib import Path

import click

from wordvecs.cli.common import human_bytes, quiet_option, read_word_file
from wordvecs.errors import WriteError

__all__ = ["register"]


def _source_bytes(source: str) -> int | str | None:
    """The bytes a source takes on disk; a sentence when that cannot be known (a pipe, a FIFO or
    a device has no size before it is read); None for what is not a file (a catalog name)."""
    import stat
    from pathlib import Path

    from wordvecs.sources import split_member, stdin_alias

    source = stdin_alias(source)
    p = Path(split_member(source)[0])
    if p.is_dir():
        return sum(f.stat().st_size for f in p.iterdir() if f.is_file())
    try:
        st = p.stat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        kind = "a pipe" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
        return f"unknown ({kind}: read once, its size is not known)"
    return st.st_size


@click.command()
@click.argument("source")
@click.option("--vocab", "vocab_file", type=click.Path(exists=True, dir_okay=False),
              help="A vocabulary file (one word per line): report its coverage.")
@click.option("--verify", is_flag=True, help="For a store: check every file's sha256.")
@quiet_option
def info(source: str, vocab_file: str | None, verify: bool, quiet: bool) -> None:
    """Describe SOURCE: format, count, dim, bytes, a few words, and a vocabulary's coverage.

    SOURCE may be - (standard input: cat f.txt | wordvecs info -).
    """
    import wordvecs

    v = wordvecs.load(source, progress=None if not quiet else False, verify=verify)
    size = _source_bytes(source)
    click.echo(f"source:  {source}")
    click.echo(f"format:  {v.format}")
    click.echo(f"count:   {len(v):,}")
    click.echo(f"dim:     {v.dim}")
    if isinstance(size, str):
        click.echo(f"bytes:   {size}")
    elif size is not None:
        click.echo(f"bytes:   {size:,} ({human_bytes(size)})")
    click.echo(f"matrix:  {human_bytes(len(v) * v.dim * 4)} as float32")
    if v.subwords is not None:
        describe_subwords = getattr(v.subwords, "describe", None)
        params = (describe_subwords() if describe_subwords is not None
                  else {"dim": v.subwords.dim})
        click.echo("subwords: " + " ".join(f"{k}={val:,}" if isinstance(val, int) else
                                           f"{k}={val}" for k, val in params.items()))
    sample = v.words[:8] if len(v) else []
    click.echo("words:   " + " ".join(sample) + (" ..." if len(v) > 8 else ""))
    if verify:
        click.echo("verify:  ok (sha256 of every file matches)")
    if vocab_file:
        from wordvecs.resolve import Chain, describe, summary_lines

        words = read_word_file(vocab_file)
        unique = list(dict.fromkeys(words))
        res = Chain(v).resolve(unique)
        report = describe(unique, res.steps, res.parts, policy="missing")
        found = int(res.resolved.sum())
        exact = report["steps"].get("exact", 0)
        share = found / len(unique) if unique else 0.0
        exact_share = exact / len(unique) if unique else 0.0
        click.echo(f"coverage: {found:,} of {len(unique):,} words in {vocab_file} "
                   f"({share:.1%}; exact {exact_share:.1%})")
        for line in summary_lines(report, len(unique) - found):
            click.echo(line)


@click.command()
@click.argument("src")
@click.argument("dst")
@click.option("--to", "to", default=None,
              type=click.Choice(["store", "glove", "word2vec", "fasttext", "word2vec-binary"]),
              help="The format to write (default: from DST's extension: .txt glove, .vec "
                   "word2vec, .bin word2vec-binary, anything else a store).")
@click.option("--force", is_flag=True,
              help="Replace DST if it is a file or a wordvecs store (never another folder).")
@click.option("--vocab", "vocab_file", type=click.Path(exists=True, dir_okay=False),
              help="Keep only the words of this file (one per line).")
@click.option("--limit", type=click.IntRange(min=0), help="Read only the first N vectors.")
@click.option("--precision", type=click.IntRange(1, 17),
              help="Significant digits for text (default: shortest exact float32 repr).")
@quiet_option
def convert(src: str, dst: str, to: str | None, force: bool, vocab_file: str | None,
            limit: int | None, precision: int | None, quiet: bool) -> None:
    """Convert SRC to DST (a memory-mapped store by default), optionally keeping a vocabulary.

    DST's folder must exist; an existing DST is replaced only with --force.
    """
    import wordvecs
    from wordvecs._atomic import check_destination
    from wordvecs.formats import VectorFormat, write_format
    from wordvecs.formats.store import is_our_store

    fmt = write_format(dst, to)
    path = Path(dst)
    if not path.parent.is_dir():  # refused before the (long) read, as the writer would
        raise WriteError(f"cannot write {dst}: the folder {path.parent} does not exist "
                         "(create it first)")
    check_destination(path, folder=fmt is VectorFormat.STORE, overwrite=force,
                      is_ours=is_our_store)
    vocab = read_word_file(vocab_file) if vocab_file else None
    progress = False if quiet else None
    v = wordvecs.load(src, vocab=vocab, limit=limit, progress=progress)
    v.save(dst, format=fmt.value, overwrite=force, precision=precision, progress=progress)
    click.echo(f"wrote {dst}: {len(v):,} x {v.dim} ({fmt.value})")


def register(cli: click.Group) -> None:
    """Add ``info`` and ``convert``."""
    cli.add_command(info)
    cli.add_command(convert)
