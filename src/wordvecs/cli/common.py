"""Options and helpers shared by the CLI's command modules."""

from __future__ import annotations

from pathlib import Path

import click

from wordvecs.errors import FormatError
from wordvecs.training.report import human_bytes

__all__ = [
    "DEFAULT_VECTORS",
    "human_bytes",
    "not_utf8",
    "quiet_option",
    "read_word_file",
    "vectors_option",
]

DEFAULT_VECTORS = "glove-6b-50d"


def vectors_option(default: str | None = DEFAULT_VECTORS):  # type: ignore[no-untyped-def]
    """``--vectors SOURCE``: a file, store or set name (default: the bundled GloVe 6B 50d)."""
    return click.option("--vectors", "-v", "vectors", default=default, show_default=True,
                        metavar="SOURCE",
                        help="Vectors file, store folder, or set name.")


quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bars.")


def read_word_file(path: str | Path) -> list[str]:
    """Words of a vocabulary file: one per line (first tab-separated field), blank lines skipped."""
    words = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                w = line.rstrip("\r\n").split("\t", 1)[0]
                if w.strip():
                    words.append(w)
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    return words


def not_utf8(path: str | Path, exc: UnicodeDecodeError) -> FormatError:
    """The error for a word file that is not UTF-8 text, naming the bad bytes."""
    return FormatError(path, "not UTF-8 text", found=repr(exc.object[exc.start:exc.start + 8]))

