"""The model's WordPiece tokenizer (``tokenizer.json``), read with ``tokenizers``.

``tokenizer.json`` files saved by sentence-transformers pad and truncate every input to 128
tokens; both are switched off here and the truncation length is set explicitly by the caller
(padding is done by the encoder, per batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wordvecs.encoders.bert import BertConfig
from wordvecs.encoders.files import ModelFiles
from wordvecs.errors import FormatError, UsageError

__all__ = ["WordPiece", "load_tokenizer"]


@dataclass(frozen=True)
class WordPiece:
    """A ``tokenizers.Tokenizer``: no padding, truncation at ``max_length``, its special ids."""

    tokenizer: Any
    max_length: int
    cls_id: int
    sep_id: int
    vocab_size: int

    def encode(self, texts: list[str], *, add_special_tokens: bool = True) -> list[list[int]]:
        """Token ids of each text, ``[CLS] ... [SEP]`` included, at most ``max_length``."""
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=add_special_tokens)
        return [e.ids for e in encodings]

    def id_to_token(self, i: int) -> str:
        token = self.tokenizer.id_to_token(i)
        return token if token is not None else f"[id {i}]"


def load_tokenizer(files: ModelFiles, config: BertConfig, max_length: int) -> WordPiece:
    """Read ``tokenizer.json``; :class:`FormatError` unless a WordPiece tokenizer that fits."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordPiece as WordPieceModel

    where = files.where("tokenizer.json")
    raw = files.read("tokenizer.json")
    try:
        tok = Tokenizer.from_str(raw.decode("utf-8"))
    except Exception as exc:  # tokenizers raises plain Exception on a bad file
        raise FormatError(where, f"not a readable tokenizer file ({exc})") from None
    if not isinstance(tok.model, WordPieceModel):
        raise FormatError(where, "the tokenizer model", expected="WordPiece (BERT)",
                          found=type(tok.model).__name__)
    size = tok.get_vocab_size(with_added_tokens=True)
    if size > config.vocab_size:
        raise FormatError(where, f"{size:,} tokens but config.json's vocab_size is "
                          f"{config.vocab_size:,}")
    if not 3 <= max_length <= config.max_position_embeddings:
        raise UsageError(f"max_length must be in [3, {config.max_position_embeddings}] for this "
                         f"model. Received: max_length={max_length}")
    tok.no_padding()
    tok.enable_truncation(max_length)
    probe = tok.encode("a").ids
    if len(probe) < 3:
        raise FormatError(where, "the tokenizer adds no [CLS] / [SEP] tokens",
                          expected="a post-processor that adds them", found=f"ids {probe}")
    return WordPiece(tok, max_length, probe[0], probe[-1], size)
