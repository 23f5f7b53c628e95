"""Text as people write it: a tokenizer for social-media posts.

:func:`tokenize` finds URLs, @handles, #hashtags, emoticons, emoji, numbers, elongated words
(``sooooo``), repeated punctuation (``!!!``) and all-caps words, then writes them one of two ways:

* ``glove_twitter=True``: the special tokens GloVe's Twitter vectors were trained with, as the
  GloVe project's ``preprocess-twitter.rb`` (Romain Paulus, Jeffrey Pennington) writes them:
  ``<url>``, ``<user>``, ``<hashtag>`` before the hashtag's words (split at capitals; an all-caps
  tag gets ``<allcaps>``), ``<smile>``, ``<lolface>``, ``<sadface>``, ``<neutralface>``,
  ``<heart>``, ``<number>``, ``! <repeat>``, ``way <elong>`` (the last letter kept once),
  ``word <allcaps>``; everything lowercase.
* otherwise (any other vectors): the words are kept and what carries no meaning is dropped. URLs
  go; a handle or hashtag keeps its text (``@AmericanAir`` -> ``americanair``, which the
  unseen-word chain segments into ``american air``); emoticons and the common emoji become the
  word they stand for (``:)`` -> ``smile``, ``😂`` -> ``laughing``), other emoji and symbols go;
  elongations are shortened (``sooooo`` -> ``so``, ``coooool`` -> ``cool``), repeated
  punctuation kept once, all-caps lowercased.

Both modes split ``don't`` into ``do n't`` and ``king's`` into ``king 's`` as the Stanford
tokenizer behind GloVe 6B does; hyphenated words stay whole (the chain splits them).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["EMOJI_WORDS", "is_glove_twitter", "tokenize"]

_EYES = r"[8:=;]"
_NOSE = r"['`\-]?"
_PATTERN = re.compile(
    r"(?P<url>https?://\S+|www\.(?:\w+\.)+\S*)"
    r"|(?P<user>@\w+)"
    r"|(?P<hashtag>#\w+)"
    r"|(?P<heart><3+)"
    rf"|(?P<smile>{_EYES}{_NOSE}[)dD]+(?![\w])|\(+{_NOSE}{_EYES})"
    rf"|(?P<lolface>{_EYES}{_NOSE}[pP]+(?![\w]))"
    rf"|(?P<sadface>{_EYES}{_NOSE}\(+|\)+{_NOSE}{_EYES})"
    rf"|(?P<neutralface>{_EYES}{_NOSE}[/|lL*](?![\w/]))"
    r"|(?P<number>[-+]?\d+(?:[.,:]\d+)*)"
    r"|(?P<word>[^\W\d_]+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)\b"
    r"|[^\W_]+(?:[-_][^\W_]+)*)"
    r"|(?P<repeat>(?P<rch>[!?.])(?P=rch)+)"
    r"|(?P<punct>[!?.,;:\"'()\-])"
    r"|(?P<other>\S)"
)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_ELONG_END = re.compile(r"(\w)\1{2,}$")
_ELONG_MID = re.compile(r"(\w)\1{2,}")
_CAPS = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

#: The word each emoticon kind stands for outside GloVe Twitter mode.
_FACE_WORDS = {"smile": "smile", "lolface": "laugh", "sadface": "sad", "neutralface": "meh",
               "heart": "love"}

#: Common emoji -> the word they stand for (outside GloVe Twitter mode); other emoji are dropped.
EMOJI_WORDS = {
    "😂": "laughing", "🤣": "laughing", "😆": "laughing", "😄": "happy", "😃": "happy",
    "😀": "happy", "😊": "smile", "🙂": "smile", "😁": "grin", "😍": "love", "🥰": "love",
    "😘": "kiss", "❤": "love", "💕": "love", "💖": "love", "💔": "heartbroken", "😢": "sad",
    "😭": "crying", "😞": "sad", "🙁": "sad", "☹": "sad", "😡": "angry", "😠": "angry",
    "🤬": "angry", "😤": "angry", "😒": "annoyed", "🙄": "annoyed", "😩": "tired",
    "😴": "sleepy", "😱": "scared", "😮": "surprised", "🤔": "thinking", "😐": "meh",
    "👍": "good", "👎": "bad", "👏": "applause", "🙏": "thanks", "🎉": "party", "🔥": "fire",
    "💯": "perfect", "✈": "plane", "😎": "cool", "🤢": "sick", "💩": "crap",
}


def is_glove_twitter(name: object) -> bool:
    """True when a vector set's name or source says it is GloVe's Twitter set."""
    text = str(name or "").lower()
    return "twitter" in text


def _is_emoji(ch: str) -> bool:
    """Pictographs and dingbats (not ™, ©, U+FFFD: symbols that carry no meaning of their own)."""
    return len(ch) == 1 and ("\U0001f000" <= ch <= "\U0001faff" or "\u2600" <= ch <= "\u27bf"
                             or ch in "\u2b50\u2b55\u2b06\u2b07")


def _elong(word: str) -> tuple[str, bool]:
    """The word with its elongations shortened, and whether it had one."""
    short = _ELONG_END.sub(r"\1", word)
    short = _ELONG_MID.sub(r"\1\1", short)
    return short, short != word


def _word(word: str, twitter: bool, out: list[str]) -> None:
    letters = [c for c in word if c.isalpha()]
    caps = len(letters) >= 2 and all(c.isupper() for c in letters)
    short, elongated = _elong(word)
    out.append(short.lower())
    if twitter:
        if elongated:
            out.append("<elong>")
        if caps:
            out.append("<allcaps>")


def tokenize(text: str, *, glove_twitter: bool = False) -> list[str]:
    """The tokens of a post; ``glove_twitter`` writes GloVe Twitter's special tokens."""
    out: list[str] = []
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    for m in _PATTERN.finditer(text):
        kind = m.lastgroup
        tok = m.group()
        if kind == "url":
            if glove_twitter:
                out.append("<url>")
        elif kind == "user":
            out.append("<user>" if glove_twitter else tok[1:].lower())
        elif kind == "hashtag":
            out += _hashtag(tok[1:], glove_twitter)
        elif kind in _FACE_WORDS:
            out.append(f"<{kind}>" if glove_twitter else _FACE_WORDS[kind])
        elif kind == "number":
            out.append("<number>" if glove_twitter else tok)
        elif kind == "word":
            _word(tok, glove_twitter, out)
        elif kind == "repeat":
            out.append(tok[0])
            if glove_twitter:
                out.append("<repeat>")
        elif kind == "punct":
            out.append(tok)
        else:  # a lone symbol or emoji
            out += _symbol(tok, glove_twitter)
    return out


def _hashtag(body: str, glove_twitter: bool) -> list[str]:
    """The tokens of a hashtag whose text (after ``#``) is ``body``."""
    if not glove_twitter:
        return [body.lower()]
    if body.isupper():
        return ["<hashtag>", body.lower(), "<allcaps>"]
    return ["<hashtag>", *(p.lower() for p in _CAPS.split(body) if p)]


def _symbol(tok: str, glove_twitter: bool) -> list[str]:
    """The tokens of a lone symbol or emoji: its word, itself, or none."""
    ch = tok.rstrip("\ufe0f")
    if ch in EMOJI_WORDS:
        return [tok if glove_twitter else EMOJI_WORDS[ch]]
    if glove_twitter and _is_emoji(tok):
        return [tok]
    return []
