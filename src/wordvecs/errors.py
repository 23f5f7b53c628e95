"""The errors wordvecs raises: one base class, a few subclasses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "ArgumentTypeError",
    "ChecksumError",
    "DataError",
    "DownloadError",
    "FormatError",
    "MissingExtraError",
    "SourceError",
    "StoreError",
    "UnwritableError",
    "UsageError",
    "VocabularyError",
    "WordNotFound",
    "WordvecsError",
    "WordvecsWarning",
    "WriteError",
    "warn",
]


class WordvecsWarning(UserWarning):
    """Something in the input was odd but usable: duplicates, non-finite values, a wrong header."""


class WordvecsError(Exception):
    """Base class of every error wordvecs raises on purpose."""


class SourceError(WordvecsError):
    """A source cannot be opened: missing file, a directory, an archive without the member."""


class FormatError(WordvecsError):
    """A file's bytes are not what its format promises.

    Carries the file, the 1-based line or the byte offset, what was expected and what was found,
    so a message reads: ``glove.txt, line 12: expected 50 values, found 49``.
    """

    def __init__(
        self,
        path: str | Path | None,
        detail: str | None = None,
        *,
        line: int | None = None,
        offset: int | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.offset = offset
        self.expected = expected
        self.found = found
        self.detail = detail
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f", line {self.line}"
        if self.offset is not None:
            where += f", byte offset {self.offset}"
        parts = []
        if self.detail:
            parts.append(self.detail)
        if self.expected is not None:
            parts.append(f"expected {self.expected}")
        if self.found is not None:
            parts.append(f"found {self.found}")
        return f"{where}: {'; '.join(parts)}" if parts else where


class StoreError(WordvecsError):
    """A wordvecs store is damaged, incomplete or of a format version this release cannot read."""


class WriteError(WordvecsError, OSError):
    """An output cannot be written: its destination is taken, its folder is missing, the disk is
    full or read-only. Also an ``OSError``; ``errno`` is the system's code where there is one."""


class UnwritableError(WordvecsError, ValueError):
    """Vectors cannot be written as asked: a word that would not read back, or a file name whose
    extension contradicts the format."""


class VocabularyError(WordvecsError, ValueError):
    """A vocabulary is unusable: index 0 taken by a word, negative indices, rows that do not fit."""


class DataError(WordvecsError, ValueError):
    """A training or prediction data set is unusable: no rows, one class, a missing column."""


class UsageError(WordvecsError, ValueError):
    """An argument's value is outside what the function accepts: a bad mode, size or fraction."""


class ArgumentTypeError(WordvecsError, TypeError):
    """An argument is of the wrong type: a single string where a list of words is expected."""


class DownloadError(WordvecsError):
    """A named set could not be fetched."""


class ChecksumError(DownloadError):
    """A downloaded or stored file does not have the digest it should have."""


class MissingExtraError(WordvecsError, ImportError):
    """An optional dependency is not installed; the message says which extra installs it."""


class WordNotFound(WordvecsError, KeyError):
    """A word is not in the vectors."""

    def __init__(self, word: object, suggestion: str | None = None) -> None:
        self.word = word  # a str; an int row number for gensim-style access
        self.suggestion = suggestion
        msg = f"word {word!r} not in vocabulary"
        if suggestion is not None:
            msg += f" (did you mean {suggestion!r}?)"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def warn(message: str, category: type[Warning] = WordvecsWarning) -> None:
    """``warnings.warn``, attributed to the first caller outside wordvecs: the user's own line,
    however many of the package's frames lie between it and here (a fixed ``stacklevel`` names a
    line of wordvecs as soon as one more function sits on the path)."""
    import os
    import sys
    import warnings

    package = os.path.dirname(__file__) + os.sep  # co_filename is spelt as the module's __file__
    frame = sys._getframe(1)  # the caller of warn: stacklevel 2
    level = 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


def require(module: str, extra: str, *, load: bool = True) -> Any:
    """Import an optional dependency, or raise MissingExtraError naming the extra to install.

    With ``load=False`` only check that the module can be found, without importing it (for a
    check before heavy work, or for a package whose import is slow); then the result is None.
    """
    import importlib
    import importlib.util

    hint = f"{module.partition('.')[0]} is not installed: pip install 'wordvecs[{extra}]'"
    if not load:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a parent package missing, or hidden as None
            found = False
        if not found:
            raise MissingExtraError(hint)
        return None
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(hint) from exc
