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


def string_array(data: np.ndarray, offsets: np.ndarray) -> Any:
    """The Arrow string array of UTF-8 ``data`` cut at ``offsets`` (int32: ``pa.string()``,
    int64: ``pa.large_string()``), wrapping both without a copy and without a UTF-8 check."""
    import pyarrow as pa

    kind = pa.large_string() if offsets.dtype == np.int64 else pa.string()
    return pa.Array.from_buffers(kind, len(offsets) - 1, [None, pa.py_buffer(offsets),
                                                          pa.py_buffer(data)])


def string_spans(array: Any) -> tuple[np.ndarray, np.ndarray]:
    """The data and int32 offsets of an Arrow string array (no copy)."""
    n, offset = len(array), array.offset
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[offset:offset + n + 1]
    data = array.buffers()[2]
    return (np.frombuffer(data, dtype=np.uint8) if data is not None
            else np.zeros(0, dtype=np.uint8)), offsets


def strings(words: Sequence[str], *, large: bool = False) -> Any:
    """``pa.array(words, pa.string())`` (or ``pa.large_string()``)."""
    return string_array(*utf8_spans(words, np.int64 if large else np.int32))


def bools(mask: np.ndarray) -> Any:
    """``pa.array(mask)`` of a NumPy bool array."""
    import pyarrow as pa

    bits = np.packbits(np.asarray(mask, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(bits)])


def _unpack(array: Any, buffer: int) -> np.ndarray:
    """Buffer ``buffer`` of ``array`` (0: validity, 1: values of a bool array) as NumPy bools."""
    bits = np.frombuffer(array.buffers()[buffer], dtype=np.uint8)
    n, offset = len(array), array.offset
    return np.unpackbits(bits, count=offset + n, bitorder="little")[offset:].astype(bool)


def numpy_bools(array: Any) -> np.ndarray:
    """``np.asarray(array)`` of an Arrow bool array without nulls."""
    if array.null_count:
        raise ValueError("the array has nulls")
    return _unpack(array, 1)


def numpy_ints(array: Any, null: int | None = None) -> np.ndarray:
    """``np.asarray(array, dtype=np.int64)`` of an Arrow integer array, its nulls as ``null``."""
    n, offset = len(array), array.offset
    values = np.frombuffer(array.buffers()[1], dtype=array.type.to_pandas_dtype())
    out = values[offset:offset + n].astype(np.int64)
    if array.null_count:
        if null is None:
            raise ValueError("the array has nulls")
        out[~_unpack(array, 0)] = null
    return out
