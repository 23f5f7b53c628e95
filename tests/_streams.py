"""The compressed containers the reader tests wrap a vectors file in (gz, bz2, xz, a one-member
zip), shared by tests/test_fuzz.py (random damage) and tests/test_hostile_read.py (fixed damage)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from collections.abc import Callable


def zip_one(data: bytes, name: str = "v.txt") -> bytes:
    """A deflated zip holding ``data`` as its one member ``name``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress, "zip": zip_one}
