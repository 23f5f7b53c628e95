"""Reading labelled data sets and texts to classify: CSV / TSV / JSONL files and class folders.

Every file is decoded once, with its encoding checked: a byte-order mark picks UTF-8 / UTF-16 /
UTF-32, ``encoding=`` names another; anything else must be UTF-8, and a byte that is not gives a
:class:`~wordvecs.errors.DataError` naming the file, the line, the byte offset and the encoding
expected. Label values are normalised one way for every format (``1`` and ``1.0`` are one class);
a column that mixes strings and numbers, or one number spelled two ways, is refused.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wordvecs.errors import DataError

__all__ = [
    "LABEL_COLUMNS",
    "TEXT_COLUMNS",
    "InputTexts",
    "TextData",
    "decode_bytes",
    "read_csv",
    "read_dataset",
    "read_folder",
    "read_jsonl",
    "read_texts",
    "text_problem",
]

#: Column names tried, in order, when no text column is named.
TEXT_COLUMNS = ("text", "content", "document", "sentence", "review", "body", "message")
#: Column names tried, in order, when no label column is named.
LABEL_COLUMNS = ("label", "labels", "category", "class", "target", "sentiment", "y")

_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
             ".json": "jsonl"}
# UTF-32 first: its little-endian mark begins with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class TextData:
    """Documents and their labels, as read from ``source`` in ``format``."""

    texts: list[str]
    labels: list[str]
    format: str = "memory"
    source: str = "<memory>"

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def classes(self) -> list[str]:
        """The distinct labels, sorted."""
        return sorted(set(self.labels))

    def subset(self, indices: Sequence[int] | np.ndarray) -> TextData:
        """The rows at ``indices``, in that order."""
        return TextData([self.texts[i] for i in indices], [self.labels[i] for i in indices],
                        self.format, self.source)


@dataclass(frozen=True)
class InputTexts:
    """Texts to classify, each with its id: the 1-based line it starts on, or an id column."""

    ids: list[int | str]
    texts: list[str]
    format: str
    source: str

    def __len__(self) -> int:
        return len(self.texts)


# --- decoding ------------------------------------------------------------------------------------
def decode_bytes(data: bytes, source: str, encoding: str | None = None) -> str:
    """``data`` as text: ``encoding`` when given, else from a byte-order mark, else strict UTF-8.

    Raises :class:`DataError` naming ``source``, the line and byte offset of the first byte that
    does not decode, or of a NUL byte (a UTF-16 file without a mark reads as UTF-8 with NULs).
    """
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise DataError(f"unknown encoding {encoding!r} (for {source}); try utf-8, cp1252, "
                            "latin-1 or utf-16") from None
        if name == "utf-8" and data.startswith(codecs.BOM_UTF8):
            name = "utf-8-sig"
        how = f"{encoding} (as asked)"
    else:
        name = next((enc for bom, enc in _BOMS if data.startswith(bom)), "utf-8")
        how = "UTF-8" if name == "utf-8" else f"{name} (from its byte-order mark)"
    try:
        text = data.decode(name)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(name, errors="replace").count("\n") + 1
        raise DataError(f"{source}, line {line}, byte offset {exc.start}: expected {how} text, "
                        f"found bytes {data[exc.start : exc.start + 4]!r}; give the file's "
                        "encoding with --encoding (e.g. cp1252, latin-1, utf-16)") from None
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        offset = len(text[:nul].encode(name)) if name.startswith("utf-8") else None
        where = f", byte offset {offset}" if offset is not None else ""
        raise DataError(f"{source}, line {line}{where}: a NUL byte, expected {how} text; if the "
                        "file is UTF-16 without a byte-order mark, give --encoding utf-16-le")
    return text


def _read_file(path: Path, encoding: str | None) -> str:
    if path.is_dir():
        raise DataError(f"{path}: a folder, expected a file")
    return decode_bytes(path.read_bytes(), str(path), encoding)


# --- columns and labels --------------------------------------------------------------------------
def _pick(columns: Sequence[str], wanted: str | None, defaults: Sequence[str], kind: str,
          source: str) -> str:
    if wanted is not None:
        if wanted not in columns:
            raise DataError(f"{source}: no {kind} column {wanted!r}; "
                            f"columns are {', '.join(map(repr, columns))}")
        return wanted
    lower = {c.lower().strip(): c for c in columns}
    for name in defaults:
        if name in lower:
            return lower[name]
    raise DataError(f"{source}: no {kind} column (looked for {', '.join(defaults)}); columns are "
                    f"{', '.join(map(repr, columns))}; name it with --{kind}-column")


def _label(value: Any, where: str, column: str) -> tuple[str, str]:
    """A label value as ``(text, kind)``: numbers written one way (``1.0`` -> ``"1"``)."""
    if isinstance(value, bool):
        return ("true" if value else "false"), "boolean"
    if isinstance(value, int):
        return str(value), "number"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DataError(f"{where}: label {value!r} in column {column!r} is not a finite "
                            "number")
        return (str(int(value)) if value.is_integer() else repr(value)), "number"
    if isinstance(value, str):
        if not value.strip():
            raise DataError(f"{where}: empty label in column {column!r}")
        return value.strip(), "string"
    if value is None:
        raise DataError(f"{where}: empty label in column {column!r}")
    raise DataError(f"{where}: label in column {column!r} is a JSON {type(value).__name__}; "
                    "expected a string or a number")


def _check_labels(labels: list[str], kinds: list[str], wheres: list[str], source: str) -> None:
    first: dict[str, int] = {}
    for i, k in enumerate(kinds):
        first.setdefault(k, i)
    if len(first) > 1:
        a, b = sorted(first.values())[:2]
        raise DataError(f"{source}: labels mix types: {wheres[a]} has the {kinds[a]} "
                        f"{labels[a]!r}, {wheres[b]} the {kinds[b]} {labels[b]!r}; write every "
                        "label the same way")
    spelled: dict[float, tuple[str, int]] = {}
    for i, y in enumerate(labels):
        try:
            value = float(y)
        except ValueError:
            continue
        if not math.isfinite(value):
            continue
        seen = spelled.setdefault(value, (y, i))
        if seen[0] != y:
            raise DataError(f"{source}: labels {seen[0]!r} ({wheres[seen[1]]}) and {y!r} "
                            f"({wheres[i]}) are the same number written two ways; write it one "
                            "way")


def _text(value: Any, where: str, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    raise DataError(f"{where}: text in column {column!r} is a JSON {type(value).__name__}; "
                    "expected a string")


def _labelled(rows: list[tuple[str, dict[str, Any]]], columns: Sequence[str],
              text_column: str | None, label_column: str | None, fmt: str,
              source: str) -> TextData:
    tcol = _pick(columns, text_column, TEXT_COLUMNS, "text", source)
    lcol = _pick(columns, label_column, LABEL_COLUMNS, "label", source)
    texts, labels, kinds, wheres = [], [], [], []
    for where, row in rows:
        label, kind = _label(row.get(lcol), where, lcol)
        texts.append(_text(row.get(tcol), where, tcol))
        labels.append(label)
        kinds.append(kind)
        wheres.append(where)
    _check_labels(labels, kinds, wheres, source)
    return TextData(texts, labels, fmt, source)


# --- row readers ---------------------------------------------------------------------------------
def _csv_rows(path: Path, delimiter: str, encoding: str | None
              ) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Header and ``(line, row)`` of a CSV / TSV file; blank lines skipped, ragged rows refused."""
    text = _read_file(path, encoding)
    if csv.field_size_limit() < len(text) + 1:  # a valid file's field may be the whole file
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, dict[str, Any]]] = []
    header: list[str] | None = None
    try:
        while True:
            start = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                break
            if not fields:
                continue
            if header is None:
                header = fields
                if len(set(header)) != len(header):
                    dup = next(h for h in header if header.count(h) > 1)
                    raise DataError(f"{path}, line {start}: column {dup!r} appears twice in the "
                                    "header")
                continue
            if delimiter == "\t":
                _check_tsv_fields(path, start, reader.line_num, fields)
            if len(fields) != len(header):
                raise DataError(f"{path}, line {start}: {len(fields)} fields, expected "
                                f"{len(header)} (the header's); quote a text that holds "
                                f"{delimiter!r} or a line break")
            rows.append((start, dict(zip(header, fields))))
    except csv.Error as exc:
        kind = "TSV" if delimiter == "\t" else "CSV"
        raise DataError(f"{path}, line {reader.line_num}: not {kind} ({exc})") from None
    if header is None:
        raise DataError(f"{path}: empty file, no header row")
    return header, rows


def _check_tsv_fields(path: Path, start: int, end: int, fields: list[str]) -> None:
    """Refuse a TSV field that runs over several lines and holds tabs: the mark of a ``"`` that
    opens a field and never closes, which would swallow the rows after it into one document."""
    for field in fields:
        if "\n" in field and "\t" in field:
            raise DataError(f"{path}, line {start}: a quoted field runs to line {end} and holds "
                            f"tabs: an unbalanced '\"' on line {start}? (it would merge the rows "
                            "that follow into one text); close the quote, or remove it")


def _jsonl_rows(path: Path, encoding: str | None
                ) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Keys and ``(line, object)`` of a JSON Lines file; blank lines skipped."""
    text = _read_file(path, encoding)
    rows: list[tuple[int, dict[str, Any]]] = []
    columns: dict[str, None] = {}
    # Split on \n only: a JSON string may hold U+2028, which str.splitlines would cut at.
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}, line {n}: not JSON ({exc.msg} at column {exc.colno})"
                            ) from None
        except RecursionError:
            raise DataError(f"{path}, line {n}: JSON nested too deeply") from None
        if not isinstance(obj, dict):
            raise DataError(f"{path}, line {n}: expected a JSON object, found "
                            f"{type(obj).__name__}")
        rows.append((n, obj))
        columns.update(dict.fromkeys(obj))
    return list(columns), rows


def read_csv(path: str | os.PathLike[str], *, text_column: str | None = None,
             label_column: str | None = None, delimiter: str | None = None,
             encoding: str | None = None) -> TextData:
    """Read a CSV (or, with ``delimiter="\\t"`` or a ``.tsv`` name, TSV) file with a header row."""
    path = Path(path)
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    header, rows = _csv_rows(path, delimiter, encoding)
    return _labelled([(f"{path}, line {n}", r) for n, r in rows], header, text_column,
                     label_column, "tsv" if delimiter == "\t" else "csv", str(path))


def read_jsonl(path: str | os.PathLike[str], *, text_column: str | None = None,
               label_column: str | None = None, encoding: str | None = None) -> TextData:
    """Read a JSON Lines file: one object a line."""
    path = Path(path)
    columns, rows = _jsonl_rows(path, encoding)
    if not rows:
        raise DataError(f"{path}: no rows")
    return _labelled([(f"{path}, line {n}", r) for n, r in rows], columns, text_column,
                     label_column, "jsonl", str(path))


def read_folder(path: str | os.PathLike[str], *, encoding: str | None = None) -> TextData:
    """Read a folder with one sub-folder per class and one document per file (hidden files skipped).

    Files are read in sorted order, so the result does not depend on the filesystem. A file
    that is not UTF-8 (or ``encoding``) is read as cp1252 with a warning when it decodes so.
    """
    import logging

    path = Path(path)
    texts, labels = [], []
    for sub in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for f in sorted(p for p in sub.rglob("*") if p.is_file() and not p.name.startswith(".")):
            try:
                texts.append(_read_file(f, encoding))
            except DataError:
                if encoding is not None:
                    raise
                logging.getLogger(__name__).warning("%s is not UTF-8; read as cp1252", f)
                texts.append(decode_bytes(f.read_bytes(), str(f), "cp1252"))
            labels.append(sub.name)
    return TextData(texts, labels, "folder", str(path))


def _format_of(p: Path, format: str, allowed: str) -> str:
    if format != "auto":
        return format
    if p.is_dir():
        return "folder"
    suffix = p.suffix.lower()
    fmt = _SUFFIXES.get(suffix, "")
    if not fmt:
        raise DataError(f"{p}: cannot tell the format from {suffix or 'no suffix'!r}; "
                        f"expected {allowed}")
    return fmt


def read_dataset(path: str | os.PathLike[str], *, text_column: str | None = None,
                 label_column: str | None = None, format: str = "auto",
                 encoding: str | None = None) -> TextData:
    """Read a data set, the format taken from ``format`` or guessed from the path.

    ``format``: ``"auto"``, ``"csv"``, ``"tsv"``, ``"jsonl"`` or ``"folder"``. The result's
    ``format`` says which one was used. ``encoding``: the files' encoding when it is not UTF-8
    and they carry no byte-order mark.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file or folder")
    fmt = _format_of(p, format, ".csv, .tsv, .jsonl or a folder")
    if fmt == "folder":
        if not p.is_dir():
            raise DataError(f"{p}: expected a folder with one sub-folder per class")
        return read_folder(p, encoding=encoding)
    if fmt in ("csv", "tsv"):
        return read_csv(p, text_column=text_column, label_column=label_column,
                        delimiter="\t" if fmt == "tsv" else ",", encoding=encoding)
    if fmt == "jsonl":
        return read_jsonl(p, text_column=text_column, label_column=label_column,
                          encoding=encoding)
    raise DataError(f"unknown data format {format!r}; expected csv, tsv, jsonl or folder")


def read_texts(path: str | os.PathLike[str] | None = None, *, text: str | None = None,
               format: str = "auto", text_column: str | None = None,
               id_column: str | None = None, encoding: str | None = None) -> InputTexts:
    """Texts to classify, in order, none dropped: blank lines and empty cells are kept.

    From ``path`` or from ``text`` (standard input, already read). ``format``: ``"lines"`` (one
    text a line; any suffix but .csv/.tsv/.jsonl, and standard input), ``"csv"``, ``"tsv"`` or
    ``"jsonl"`` (the text column named or found; no label needed). Each text's id is the line it
    starts on, or the value of ``id_column``.
    """
    source = str(path) if path is not None else "<stdin>"
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise DataError(f"{p}: no such file")
        if format == "auto":
            format = _SUFFIXES.get(p.suffix.lower(), "lines")
    elif format == "auto":
        format = "lines"
    if format == "lines":
        if id_column is not None:
            raise DataError(f"{source}: --id-column needs a CSV, TSV or JSONL input")
        body = text if text is not None else _read_file(Path(source), encoding)
        lines = body.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the final line break ends the last line; it starts no new one
        texts = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
        return InputTexts(list(range(1, len(texts) + 1)), texts, "lines", source)
    if text is not None:
        raise DataError("standard input is read as one text a line; give a file for "
                        f"format {format!r}")
    p = Path(source)
    if format in ("csv", "tsv"):
        columns, rows = _csv_rows(p, "\t" if format == "tsv" else ",", encoding)
    elif format == "jsonl":
        columns, rows = _jsonl_rows(p, encoding)
    else:
        raise DataError(f"unknown input format {format!r}; expected lines, csv, tsv or jsonl")
    tcol = _pick(columns, text_column, TEXT_COLUMNS, "text", source)
    icol = _pick(columns, id_column, (), "id", source) if id_column is not None else None
    ids: list[int | str] = []
    texts = []
    for n, row in rows:
        texts.append(_text(row.get(tcol), f"{source}, line {n}", tcol))
        if icol is None:
            ids.append(n)
        else:
            value = row.get(icol)
            if value is None or isinstance(value, dict | list):
                raise DataError(f"{source}, line {n}: id column {icol!r} holds "
                                f"{json.dumps(value)}; expected a string or a number")
            ids.append(value if isinstance(value, str) else json.dumps(value))
    return InputTexts(ids, texts, format, source)


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be predicted on as Unicode, or None when it can.

    A Python ``str`` can hold a lone surrogate (U+D800 to U+DFFF: JSON's ``"\\ud800"``, or a
    ``surrogateescape`` decoding of bytes that are not UTF-8). It is not a character: it has no
    UTF-8 bytes for the subword hash, so a text holding one is refused as a whole (the same
    with or without a subword table), never guessed at.
    """
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # the only reason: a surrogate code point
        return (f"holds a lone surrogate (U+{ord(text[exc.start]):04X}) at character "
                f"{exc.start}; send valid Unicode")
    return None
