"""Words a text or binary file cannot hold: refused before writing, so what is written reads back.

A reader splits a line on spaces and tabs (gensim and the word2vec C tool on either), strips what
surrounds a line, ends a line at ``\\n`` or ``\\r`` and drops a leading byte-order mark; so a word
may not be empty, hold ASCII whitespace or NUL, begin or end with any whitespace, or (the first
word of a file without a header) begin with U+FEFF.
"""

from __future__ import annotations

from collections.abc import Sequence

from wordvecs.errors import UnwritableError

__all__ = ["check_words", "unwritable"]

_SPACE = ("\t\n\x0b\x0c\r\x1c-\x1f \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}"
          "\\x{202f}\\x{205f}\\x{3000}")
_BAD = f"^$|[\\x00\\t\\n\\x0b\\x0c\\r ]|^[{_SPACE}]|[{_SPACE}]$"


def _why(word: str, first: bool, bom: bool) -> str | None:
    if not word:
        return "it is empty"
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:
        return "it is not valid Unicode (a lone surrogate)"
    for ch, what in (("\n", "a line break"), ("\r", "a carriage return"), ("\x00", "a NUL"),
                     (" ", "a space"), ("\t", "a tab"), ("\x0b", "a vertical tab"),
                     ("\x0c", "a form feed")):
        if ch in word:
            return f"it holds {what}, which a reader takes as a separator"
    if word[0].isspace() or word[-1].isspace():
        return "it begins or ends with whitespace, which a reader strips"
    if first and bom and word[0] == "\ufeff":
        return "the first word begins with U+FEFF, which a reader drops as a byte-order mark"
    return None


def unwritable(words: Sequence[str], fmt: str) -> UnwritableError:
    """The error for the first word that is not a string or not encodable as UTF-8."""
    for i, word in enumerate(words):
        if not isinstance(word, str):
            return UnwritableError(f"cannot write words[{i}] = {word!r} as {fmt}: not a string")
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            return UnwritableError(f"cannot write words[{i}] = {word!r} as {fmt}: not valid "
                                   "Unicode (a lone surrogate)")
    return UnwritableError(f"cannot write the words as {fmt}")


def check_words(words: Sequence[str], fmt: str, *, bom: bool = False) -> None:
    """Raise :class:`UnwritableError` naming the first word (and its row) that would not read
    back from a ``fmt`` file; ``bom``: the first word begins the file (GloVe text)."""
    import pyarrow.compute as pc

    from wordvecs._arrow import strings

    if not len(words):
        return
    try:
        arr = strings(words, large=True)
    except (UnicodeEncodeError, AttributeError):
        arr = None
    if arr is not None:
        bad = pc.match_substring_regex(arr, _BAD)
        first_bad = pc.index(bad, True).as_py()
        if first_bad < 0 and not (bom and arr[0].as_py()[:1] == "\ufeff"):
            return
    for i, word in enumerate(words):
        if not isinstance(word, str):
            raise UnwritableError(f"cannot write words[{i}] = {word!r} as {fmt}: not a string")
        why = _why(word, i == 0, bom)
        if why is not None:
            raise UnwritableError(f"cannot write words[{i}] = {word!r} as {fmt}: {why}, so it "
                                  "would not read back")
