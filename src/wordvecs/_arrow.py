"""Arrow arrays built from their buffers.

``pa.array`` imports pandas (about 0.17 s) whenever pandas is installed, on any input; these
build the same arrays from NumPy buffers, without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def utf8_spans(words: Sequence[str], offset_type: Any = np.int32) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of ``words`` one after another, and their offsets."""
    raw = [w.encode("utf-8") for w in words]
    offsets = np.zeros(len(raw) + 1, dtype=offset_type)
    np.cumsum([len(b) for b in raw], out=offsets[1:])
    return np.frombuffer(b"".join(raw), dtype=np.uint8), offsets


def strings(words: Sequence[str], *, large: bool = False) -> Any:
    """``pa.array(words, pa.string())`` (or ``pa.large_string()``)."""
    import pyarrow as pa

    data, offsets = utf8_spans(words, np.int64 if large else np.int32)
    kind = pa.large_string() if large else pa.string()
    return pa.Array.from_buffers(kind, len(words), [None, pa.py_buffer(offsets),
                                                    pa.py_buffer(data)])


def bools(mask: np.ndarray) -> Any:
    """``pa.array(mask)`` of a NumPy bool array."""
    import pyarrow as pa

    bits = np.packbits(np.asarray(mask, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(bits)])


def numpy_bools(array: Any) -> np.ndarray:
    """``np.asarray(array)`` of an Arrow bool array without nulls."""
    if array.null_count:
        raise ValueError("the array has nulls")
    bits = np.frombuffer(array.buffers()[1], dtype=np.uint8)
    n, offset = len(array), array.offset
    return np.unpackbits(bits, count=offset + n, bitorder="little")[offset:].astype(bool)


def numpy_ints(array: Any, null: int | None = None) -> np.ndarray:
    """``np.asarray(array, dtype=np.int64)`` of an Arrow integer array, its nulls as ``null``."""
    n, offset = len(array), array.offset
    values = np.frombuffer(array.buffers()[1], dtype=array.type.to_pandas_dtype())
    out = values[offset:offset + n].astype(np.int64)
    if array.null_count:
        if null is None:
            raise ValueError("the array has nulls")
        bits = np.frombuffer(array.buffers()[0], dtype=np.uint8)
        valid = np.unpackbits(bits, count=offset + n, bitorder="little")[offset:].astype(bool)
        out[~valid] = null
    return out
