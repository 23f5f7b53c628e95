"""The wordvecs store: a folder that opens memory-mapped in milliseconds, whatever its size.

Layout (no pickle anywhere), described as data in :data:`LAYOUT`::

    NAME.wv/
      vectors.npy    raw little-endian float32, C order, shape (count, dim)
      words.arrow    Arrow IPC file, one string column "word", in row order
      meta.json      {"format": "wordvecs-store", "version": 1, 2 or 3, "count", "dim", "dtype",
                      "files": {name: {"bytes", "sha256"}}, "source", "created_by"}
      (version 2, 3) optional extra .npy files, each listed in "files" and under
                      "extras": {extra name: {"files": [...], "fields": {...}}}
      (version 3)    index.npy: the word -> row hash table, described under
                      "index": {"file": "index.npy", "hash": "crc32", "slots", "max_probe"}

Version 1 holds exactly the two files; version 2 adds optional extras (a fastText subword table,
say): each is size-checked on open, digest-checked by ``verify=True`` and handed, memory-mapped,
to the hook registered for its name (:func:`register_extra`); an extra without a hook loads the
vectors alone, with a warning. Version 3 is version 2 plus the word index
(:mod:`wordvecs.formats.store_index`), so that the first ``v[word]`` costs microseconds instead of
building a dict of every word. Every store is written as version 3 unless its words collide too
much for the index (then as before: version 1 without extras, version 2 with). Versions 1 and 2
open as they always did, their dict built on the first lookup.

Why a version and not an extra: an extra is data that a hook turns into other vectors after they
are read; the index changes how the words are read (their offsets check moves from opening to the
first use of the words as a whole, for stores over :data:`_EAGER_WORDS` words), so a reader must
understand it, and a version says which readers do (an older one names the version it cannot
read instead of warning about an unknown extra at every open).

Writing: every file into a hidden temporary folder beside the target, ``meta.json`` last, then one
rename; an existing store is replaced only with ``overwrite=True`` (see :mod:`wordvecs._atomic`).
Reading: every file is opened through one descriptor of the folder, so a store re-saved meanwhile
is read as the old or the new one, never a mix (a folder removed under the reader is read again).
"""

from __future__ import annotations

import errno
import json
import mmap
import os
import re
import stat
import tokenize
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wordvecs._arrow import strings
from wordvecs._atomic import atomic_dir
from wordvecs._hashing import sha256_fd, sha256_file
from wordvecs.errors import StoreError, UsageError, warn
from wordvecs.formats._writecheck import unwritable
from wordvecs.formats.store_index import HASH, INDEX_FILE, MAX_PROBE, StoreIndex, build_index
from wordvecs.vectors import Vectors

__all__ = ["LAYOUT", "READ_VERSIONS", "STORE_FORMAT", "STORE_VERSION", "StoreExtra", "StoreFile",
           "is_our_store", "is_store", "read_store", "register_extra", "save_store",
           "store_extras", "verify_store", "write_store"]

STORE_FORMAT = "wordvecs-store"
STORE_VERSION = 3  # a store with the word index (1: neither extras nor index; 2: extras)
READ_VERSIONS = (1, 2, 3)
_META = "meta.json"
_VECTORS = "vectors.npy"
_WORDS = "words.arrow"
_MAX_META_BYTES = 1 << 20
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.npy")
_RETRIES = 8
_EAGER_WORDS = 1 << 16  # an indexed store with more words checks their offsets on first use


@dataclass(frozen=True)
class StoreFile:
    """One file every store holds."""

    name: str
    description: str


LAYOUT: tuple[StoreFile, ...] = (
    StoreFile(_VECTORS, "the float32 matrix, (count, dim), C order, little-endian"),
    StoreFile(_WORDS, "the words in row order: Arrow IPC, one string column"),
)


@dataclass(frozen=True)
class StoreExtra:
    """An optional part of a version-2 store: ``.npy`` arrays and JSON ``fields``, by ``name``."""

    name: str
    arrays: Mapping[str, np.ndarray]
    fields: Mapping[str, Any] = field(default_factory=dict)


ExtraHook = Callable[[Vectors, Mapping[str, Any], Mapping[str, np.ndarray]], Vectors]
ExtraSaver = Callable[[Vectors], StoreExtra | None]
_HOOKS: dict[str, ExtraHook] = {}
_SAVERS: dict[str, ExtraSaver] = {}


def register_extra(name: str, hook: ExtraHook, save: ExtraSaver | None = None) -> None:
    """Have ``hook(vectors, fields, arrays)`` turn the store's vectors and its extra ``name``
    (its fields, its memory-mapped arrays by file name) into the :class:`Vectors` returned; and
    ``save(vectors)``, where given, say what of ``vectors`` a store keeps under ``name`` (None:
    nothing)."""
    _HOOKS[name] = hook
    if save is not None:
        _SAVERS[name] = save


def store_extras(vectors: Vectors) -> tuple[StoreExtra, ...]:
    """What a store keeps of ``vectors`` beside the words and the matrix (the fastText subword
    table): every registered extra's ``save(vectors)`` that is not None."""
    found = (save(vectors) for save in _SAVERS.values())
    return tuple(extra for extra in found if extra is not None)


def _subwords_hook(vectors: Vectors, fields: Mapping[str, Any],
                   arrays: Mapping[str, np.ndarray]) -> Vectors:
    from wordvecs.formats.subword_store import subwords_from_arrays

    return vectors.with_subwords(subwords_from_arrays(fields, arrays, vectors.source or ""))


def _subwords_extra(vectors: Vectors) -> StoreExtra | None:
    if vectors.subwords is None:
        return None
    from wordvecs.formats.subword_store import subword_arrays

    arrays, fields = subword_arrays(vectors.subwords)  # type: ignore[arg-type]
    return StoreExtra("subwords", arrays, fields)


register_extra("subwords", _subwords_hook, _subwords_extra)


def is_store(path: Path) -> bool:
    """True when ``path`` is a folder holding a store's ``meta.json``."""
    return path.is_dir() and (path / _META).is_file()


def is_our_store(path: Path) -> bool:
    """True when ``path`` is a store this library wrote and nothing else: a ``meta.json`` with the
    store's format name, and no file but those it lists (what ``overwrite=True`` may replace)."""
    try:
        with _opened_dir(path) as dfd:
            meta = json.loads(_read_small(dfd, path, _META))
            names = set(os.listdir(dfd if dfd >= 0 else path))
    except (OSError, StoreError, _Missing, ValueError, RecursionError):
        return False
    if not isinstance(meta, dict) or meta.get("format") != STORE_FORMAT:
        return False
    files = meta.get("files")
    listed = set(files) if isinstance(files, dict) else set()
    return names <= listed | {_META}


# --- writing -------------------------------------------------------------------------------------

def _check_extras(extras: tuple[StoreExtra, ...]) -> None:
    taken = {f.name for f in LAYOUT} | {_META, INDEX_FILE}
    for extra in extras:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", extra.name):
            raise UsageError(f"store extra name {extra.name!r}: letters, digits, '_', '.', '-'")
        for name, array in extra.arrays.items():
            if not _NAME.fullmatch(name) or name in taken:
                raise UsageError(f"store extra {extra.name!r}: file name {name!r} is not a plain "
                                 "'NAME.npy' or is taken")
            if np.asarray(array).dtype.kind not in "biuf":
                raise UsageError(f"store extra {extra.name!r}: {name} must hold numbers, not "
                                 f"{np.asarray(array).dtype}")
            taken.add(name)


def write_store(vectors: Vectors, path: Path, *, overwrite: bool = False,
                extras: tuple[StoreExtra, ...] | None = None, index: bool = True,
                progress: bool | None = None) -> Path:
    """Write ``vectors`` as a store at ``path`` (atomically).

    An existing store is replaced only with ``overwrite=True``; a folder that is not a store, or
    holds other files, never (:class:`~wordvecs.errors.WriteError`). ``extras`` (default: the
    :func:`store_extras` of the vectors) are kept beside the words and the matrix, and so is
    the word index (:mod:`~wordvecs.formats.store_index`) that makes it a version-3 store;
    ``index=False`` writes the store without it, as version 1 (or 2, with extras), which older
    wordvecs read.
    """
    import pyarrow as pa

    from wordvecs._version import __version__

    if extras is None:
        extras = store_extras(vectors)
    _check_extras(extras)
    try:
        words = strings(vectors.words, large=True)
    except (UnicodeEncodeError, AttributeError):
        raise unwritable(vectors.words, "a store") from None
    matrix = vectors.matrix
    with atomic_dir(path, overwrite=overwrite, is_ours=is_our_store) as tmp:
        np.save(tmp / _VECTORS, np.ascontiguousarray(matrix, dtype="<f4"), allow_pickle=False)
        table = pa.table({"word": words})
        with pa.OSFile(str(tmp / _WORDS), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
            w.write_table(table)
        extra_meta = {}
        for extra in extras:
            for name, array in extra.arrays.items():
                arr = np.asarray(array)
                np.save(tmp / name, np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")),
                        allow_pickle=False)
            extra_meta[extra.name] = {"files": list(extra.arrays), "fields": dict(extra.fields)}
        names = [f.name for f in LAYOUT] + [n for e in extras for n in e.arrays]
        hashed = build_index(vectors.words) if index else None
        if hashed is not None:
            np.save(tmp / INDEX_FILE, hashed[0], allow_pickle=False)
            names.append(INDEX_FILE)
        files = {name: {"bytes": (tmp / name).stat().st_size, "sha256": sha256_file(tmp / name)}
                 for name in names}
        meta: dict[str, Any] = {
            "format": STORE_FORMAT,
            "version": STORE_VERSION if hashed is not None else 2 if extras else 1,
            "count": len(vectors),
            "dim": vectors.dim,
            "dtype": "float32",
            "byte_order": "little",
            "files": files,
            "source": vectors.source,
            "created_by": f"wordvecs {__version__}",
        }
        if extras:
            meta["extras"] = extra_meta
        if hashed is not None:
            meta["index"] = {"file": INDEX_FILE, "hash": HASH, "slots": len(hashed[0]),
                             "max_probe": hashed[1]}
        (tmp / _META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return path


# --- reading -------------------------------------------------------------------------------------

class _Raced(Exception):
    """The folder was replaced while being read: read it again."""


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(
    os, "O_CLOEXEC", 0)
_DIR_FD = os.open in os.supports_dir_fd


@contextmanager
def _opened_dir(path: Path) -> Iterator[int]:
    """A descriptor of the folder ``path`` (-1 where the system opens no folder by descriptor)."""
    if not _DIR_FD:
        yield -1
        return
    try:
        dfd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_NONBLOCK)
    except (FileNotFoundError, NotADirectoryError):
        raise StoreError(f"{path}: not a wordvecs store (no folder)") from None
    try:
        yield dfd
    finally:
        os.close(dfd)


def _open_in(dfd: int, path: Path, name: str) -> int:
    """Open ``name`` in the store: a regular file, no link followed, never blocking (a FIFO)."""
    try:
        fd = (os.open(name, _OPEN_FLAGS, dir_fd=dfd) if dfd >= 0
              else os.open(path / name, _OPEN_FLAGS))
    except FileNotFoundError:
        raise _Missing(name) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StoreError(f"{path / name}: damaged store: a symbolic link, not a file") from None
        raise StoreError(f"{path / name}: cannot open ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StoreError(f"{path / name}: damaged store: not a regular file")
    return fd


class _Missing(Exception):
    """A file of the store is absent (a damaged store, or one removed while read)."""


def _read_small(dfd: int, path: Path, name: str) -> bytes:
    fd = _open_in(dfd, path, name)
    try:
        size = os.fstat(fd).st_size
        if size > _MAX_META_BYTES:
            raise StoreError(f"{path / name}: damaged store metadata ({size:,} bytes; a store's "
                             f"metadata is at most {_MAX_META_BYTES:,})")
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(_MAX_META_BYTES + 1)
    finally:
        os.close(fd)


def _int(meta: Mapping[str, Any], key: str, where: Path) -> int:
    value = meta.get(key)
    if type(value) is not int or value < 0:  # not bool, not "20128"
        raise StoreError(f"{where}: damaged store metadata: {key} is {value!r}; expected a "
                         "non-negative integer")
    return value


def _parse_meta(data: bytes, path: Path) -> dict[str, Any]:
    meta_path = path / _META
    try:
        meta = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"{meta_path}: damaged store metadata ({exc})") from None
    except RecursionError:
        raise StoreError(f"{meta_path}: damaged store metadata (nested too deeply)") from None
    if not isinstance(meta, dict):
        raise StoreError(f"{meta_path}: damaged store metadata (not a JSON object)")
    if meta.get("format") != STORE_FORMAT:
        raise StoreError(f"{meta_path}: not a wordvecs store (format={meta.get('format')!r} "
                         f"where {STORE_FORMAT!r} was expected)")
    version = meta.get("version")
    if type(version) is not int or version not in READ_VERSIONS:
        raise StoreError(f"{path}: store format version {version!r}; this wordvecs reads version "
                         f"{' or '.join(map(str, READ_VERSIONS))} (re-create the store with this "
                         "version, or upgrade)")
    _int(meta, "count", meta_path)
    _int(meta, "dim", meta_path)
    if meta.get("dtype") != "float32":
        raise StoreError(f"{meta_path}: dtype {meta.get('dtype')!r}; expected 'float32'")
    files = meta.get("files")
    required = {f.name for f in LAYOUT} | ({INDEX_FILE} if version >= 3 else set())
    if not isinstance(files, dict) or not required <= set(files):
        raise StoreError(f"{meta_path}: damaged store metadata (files={files!r}; expected "
                         f"{sorted(required)})")
    extras = meta.get("extras", {})
    if not isinstance(extras, dict) or (version == 1 and (extras or set(files) != required)):
        raise StoreError(f"{meta_path}: damaged store metadata (a version-1 store holds exactly "
                         f"{sorted(required)})")
    _check_files(files, extras, required, meta_path)
    if version >= 3:
        _check_index(meta, meta_path)
    return meta


def _check_index(meta: dict[str, Any], meta_path: Path) -> None:
    """A version-3 store's ``index``: its file, hash, a power-of-two table at least twice the
    word count, and a probe bound no longer than :data:`MAX_PROBE`."""
    index = meta.get("index")
    if not isinstance(index, dict) or index.get("file") != INDEX_FILE or (
            index.get("hash") != HASH):
        raise StoreError(f"{meta_path}: damaged store metadata (index={index!r}; expected "
                         f"file {INDEX_FILE!r}, hash {HASH!r})")
    slots, probe = _int(index, "slots", meta_path), _int(index, "max_probe", meta_path)
    if slots < max(2, 2 * meta["count"]) or slots & (slots - 1) or probe > MAX_PROBE:
        raise StoreError(f"{meta_path}: damaged store metadata (index of {slots} slots, "
                         f"max_probe {probe}, for {meta['count']} words; expected a power of "
                         f"two at least twice the count, and max_probe <= {MAX_PROBE})")


def _check_files(files: dict[str, Any], extras: dict[str, Any], required: set[str],
                 meta_path: Path) -> None:
    """The metadata's ``files`` and ``extras`` agree and each file has a size and a digest."""
    listed: set[str] = set()
    for name, extra in extras.items():
        if (not isinstance(extra, dict) or not isinstance(extra.get("files"), list)
                or not isinstance(extra.get("fields", {}), dict)):
            raise StoreError(f"{meta_path}: damaged store metadata (extra {name!r})")
        listed.update(map(str, extra["files"]))
    for name, info in files.items():
        if name not in required and (not _NAME.fullmatch(name) or name not in listed):
            raise StoreError(f"{meta_path}: damaged store metadata (file {name!r} is not part "
                             "of the layout)")
        if not isinstance(info, dict):
            raise StoreError(f"{meta_path}: damaged store metadata (files[{name!r}]={info!r})")
        _int(info, "bytes", meta_path)
        digest = info.get("sha256")
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise StoreError(f"{meta_path}: damaged store metadata (sha256 of {name} is "
                             f"{digest!r})")
    if not listed <= set(files):
        raise StoreError(f"{meta_path}: damaged store metadata (extras list files "
                         f"{sorted(listed - set(files))} that 'files' does not)")


def _map_npy(fd: int, where: Path, shape: tuple[int, ...] | None, dtype: str | None) -> np.ndarray:
    """Memory-map the array of an ``.npy`` file from its descriptor, after checking its header."""
    size = os.fstat(fd).st_size
    fh = os.fdopen(os.dup(fd), "rb")
    try:
        try:
            version = np.lib.format.read_magic(fh)
            read = {(1, 0): np.lib.format.read_array_header_1_0,
                    (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read is None:
                raise ValueError(f"npy format version {version}")
            found_shape, fortran, found_dtype = read(fh)
        except (ValueError, OSError, SyntaxError, TypeError, RecursionError,
                tokenize.TokenError) as exc:  # numpy parses the header with ast.literal_eval
            raise StoreError(f"{where}: damaged store: not a readable .npy file ({size} bytes; "
                             f"{exc})") from None
        offset = fh.tell()
        if found_dtype.hasobject or found_dtype.kind not in "biuf" or (
                found_dtype.byteorder == ">"):
            raise StoreError(f"{where}: damaged store: dtype {found_dtype} (numbers, "
                             "little-endian, expected)")
        if dtype is not None and found_dtype != np.dtype(dtype):
            raise StoreError(f"{where}: damaged store: dtype {found_dtype} where the metadata "
                             f"says {np.dtype(dtype)}")
        if shape is not None and tuple(found_shape) != shape:
            raise StoreError(f"{where}: damaged store: shape {tuple(found_shape)} where the "
                             f"metadata says {shape}")
        if fortran and len(found_shape) > 1:
            raise StoreError(f"{where}: damaged store: Fortran order (C order expected)")
        nbytes = int(np.prod(found_shape, dtype=np.int64)) * found_dtype.itemsize
        if offset + nbytes != size:
            raise StoreError(f"{where}: damaged store: {size} bytes where the header says "
                             f"{offset + nbytes}")
        if nbytes == 0:
            return np.zeros(found_shape, dtype=found_dtype)
        return np.memmap(fh, dtype=found_dtype, mode="r", offset=offset, shape=tuple(found_shape))
    finally:
        fh.close()  # the memory map holds its own descriptor


def _read_words(fd: int, where: Path, count: int, verify: bool, defer: bool = False) -> Any:
    """The store's words as an Arrow array; ``defer=True`` leaves the offsets check out (the
    caller runs :func:`_check_offsets` before the array is used as a whole)."""
    try:
        return _checked_words(fd, where, count, verify, defer)
    except (UnicodeDecodeError, ValueError) as exc:  # a name or a buffer Arrow cannot decode
        raise StoreError(f"{where}: damaged store ({type(exc).__name__}: {exc})") from None


def _checked_words(fd: int, where: Path, count: int, verify: bool, defer: bool) -> Any:
    import pyarrow as pa

    try:
        buf = pa.py_buffer(mmap.mmap(fd, 0, access=mmap.ACCESS_READ))
        table = pa.ipc.open_file(buf).read_all()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise StoreError(f"{where}: damaged store ({exc})") from None
    if table.num_columns != 1 or not (pa.types.is_string(table.schema.types[0])
                                      or pa.types.is_large_string(table.schema.types[0])):
        raise StoreError(f"{where}: damaged store: columns {table.schema.names} of types "
                         f"{[str(t) for t in table.schema.types]}; expected one column of "
                         "strings")
    if table.num_rows != count:
        raise StoreError(f"{where}: damaged store: {table.num_rows} words where the metadata "
                         f"says {count}")
    words = table.column(0)
    if words.null_count:
        raise StoreError(f"{where}: damaged store: {words.null_count} missing (null) words")
    if not defer or words.num_chunks != 1:
        _check_offsets(words, where)
    if verify:
        try:
            words.validate(full=True)  # valid UTF-8 too: 20 times the cost of the rest of open
        except pa.ArrowException as exc:
            raise StoreError(f"{where}: damaged store: {exc}") from None
    return words.chunk(0) if words.num_chunks == 1 else words


def _check_offsets(words: Any, where: Path) -> None:
    """Offsets out of bounds would crash Arrow's kernels later: refuse them."""
    for chunk in getattr(words, "chunks", [words]):
        if len(chunk) and not _offsets_ok(chunk):
            raise StoreError(f"{where}: damaged store: word offsets out of order or out of bounds")


def _offsets_ok(chunk: Any) -> bool:
    import pyarrow as pa

    kind = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    start, n = chunk.offset, len(chunk)
    offsets: np.ndarray = np.frombuffer(chunk.buffers()[1], dtype=kind)[start:start + n + 1]
    data = chunk.buffers()[2]
    size = data.size if data is not None else 0
    return (len(offsets) == len(chunk) + 1 and offsets[0] >= 0 and offsets[-1] <= size
            and bool((offsets[1:] >= offsets[:-1]).all()))


def _read_once(path: Path, verify: bool) -> Vectors:
    with ExitStack() as stack, _opened_dir(path) as dfd:
        st_dir = os.fstat(dfd) if dfd >= 0 else None
        try:
            meta = _parse_meta(_read_small(dfd, path, _META), path)
            fds = {}
            for name, info in meta["files"].items():
                fd = _open_in(dfd, path, name)
                stack.callback(os.close, fd)
                fds[name] = fd
                size = os.fstat(fd).st_size
                if size != info["bytes"]:
                    raise StoreError(f"{path / name}: damaged store: {size} bytes where the "
                                     f"metadata says {info['bytes']}")
        except _Missing as exc:
            try:
                now = os.stat(path)
            except OSError:
                now = None
            if st_dir is not None and (now is None or (now.st_ino, now.st_dev)
                                       != (st_dir.st_ino, st_dir.st_dev)):
                raise _Raced from None
            raise StoreError(f"{path}: damaged store: {exc.args[0]} is missing" if exc.args[0]
                             != _META else f"{path}: not a wordvecs store (no {_META})") from None
        if verify:
            for name, fd in fds.items():
                actual, expected = sha256_fd(fd), meta["files"][name]["sha256"]
                if actual != expected:
                    raise StoreError(f"{path / name}: damaged store: sha256 {actual} where the "
                                     f"metadata says {expected}")
        count, dim = meta["count"], meta["dim"]
        matrix = _map_npy(fds[_VECTORS], path / _VECTORS, (count, dim), "<f4")
        index = None
        if meta["version"] >= 3:
            info = meta["index"]
            table = _map_npy(fds[INDEX_FILE], path / INDEX_FILE, (info["slots"],), "<i4")
            words = _read_words(fds[_WORDS], path / _WORDS, count, verify,
                                defer=count > _EAGER_WORDS and not verify)
            if not hasattr(words, "num_chunks"):  # one chunk, as written (else the dict)
                where = path / _WORDS
                index = StoreIndex(table, words, info["max_probe"], path / INDEX_FILE,
                                   lambda: _check_offsets(words, where))
        else:
            words = _read_words(fds[_WORDS], path / _WORDS, count, verify)
        vectors = Vectors(words, matrix, source=str(path), format="store", index=index)
        for name, extra in meta.get("extras", {}).items():
            arrays = {f: _map_npy(fds[f], path / f, None, None) for f in extra["files"]}
            hook = _HOOKS.get(name)
            if hook is None:
                warn(f"{path}: the store holds {name!r}, which this wordvecs does not use; "
                     "the vectors were loaded without it")
                continue
            vectors = hook(vectors, extra.get("fields", {}), arrays)
        return vectors


def save_store(vectors: Vectors, path: Path, *, precision: int | None = None,
               **kw: Any) -> Path:
    """The registry's writer of ``store``: :func:`write_store` (``precision`` is for text; a
    store keeps every float32 bit)."""
    return write_store(vectors, path, **kw)


def read_store(path: Path, *, verify: bool = False) -> Vectors:
    """Open a store memory-mapped: the matrix and the words are not read until used.

    ``verify=True`` also checks every file's sha256 against the metadata (reads every byte).
    """
    for _ in range(_RETRIES):
        try:
            return _read_once(Path(path), verify)
        except _Raced:
            continue
    raise StoreError(f"{path}: the store was saved again {_RETRIES} times while being read; "
                     "try again once the saves are over")


def verify_store(path: Path) -> None:
    """Check every file's sha256 against the metadata; :class:`StoreError` on a mismatch."""
    read_store(path, verify=True)
